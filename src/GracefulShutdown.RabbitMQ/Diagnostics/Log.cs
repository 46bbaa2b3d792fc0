using Microsoft.Extensions.Logging;

namespace GracefulShutdown.RabbitMQ.Diagnostics;

/// <summary>
/// Every log line of the RabbitMQ add-on. Event ids 450–499 are reserved for it by the core library's numbering
/// (see GracefulShutdown's Log); they are a public contract: never renumber, and keep EventName explicit.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(450, LogLevel.Information, "RabbitMQ consumer '{Consumer}' is consuming queue '{Queue}' (prefetch {Prefetch}).",
        EventName = "RabbitMQConsuming")]
    public static partial void Consuming(this ILogger logger, string consumer, string queue, int prefetch);

    [LoggerMessage(451, LogLevel.Warning,
        "RabbitMQ consumer '{Consumer}' cannot reach the broker; retrying in {RetryInterval} (readiness fails meanwhile if it includes the broker).",
        EventName = "RabbitMQBrokerUnreachable")]
    public static partial void BrokerUnreachable(this ILogger logger, string consumer, TimeSpan retryInterval, Exception exception);

    [LoggerMessage(452, LogLevel.Information,
        "RabbitMQ consumer '{Consumer}' stopped taking work: consumer cancelled, the broker delivers no more; {InHand} deliveries in hand finish within the drain.",
        EventName = "RabbitMQIntakeStopped")]
    public static partial void IntakeStopped(this ILogger logger, string consumer, int inHand);

    [LoggerMessage(453, LogLevel.Debug, "RabbitMQ consumer '{Consumer}' gave back delivery {DeliveryTag}, received but not started (requeued).",
        EventName = "RabbitMQDeliveryReturned")]
    public static partial void DeliveryReturned(this ILogger logger, string consumer, ulong deliveryTag);

    [LoggerMessage(454, LogLevel.Error, "RabbitMQ consumer '{Consumer}': the handler failed on delivery {DeliveryTag}; {Action}.",
        EventName = "RabbitMQHandlerFailed")]
    public static partial void HandlerFailed(this ILogger logger, string consumer, ulong deliveryTag, string action, Exception exception);

    [LoggerMessage(455, LogLevel.Warning,
        "RabbitMQ consumer '{Consumer}' could not settle delivery {DeliveryTag} ({Settlement}); the broker requeues unsettled deliveries when the channel closes.",
        EventName = "RabbitMQSettleFailed")]
    public static partial void SettleFailed(this ILogger logger, string consumer, ulong deliveryTag, string settlement, Exception exception);

    [LoggerMessage(456, LogLevel.Information, "RabbitMQ consumer '{Consumer}' closed its channel and connection after the last ack.",
        EventName = "RabbitMQClosed")]
    public static partial void Closed(this ILogger logger, string consumer);

    [LoggerMessage(457, LogLevel.Warning,
        "RabbitMQ consumer '{Consumer}' could not close cleanly ({Step}); the connection is aborted so the stop stays within the budget.",
        EventName = "RabbitMQCloseFailed")]
    public static partial void CloseFailed(this ILogger logger, string consumer, string step, Exception? exception);
}
