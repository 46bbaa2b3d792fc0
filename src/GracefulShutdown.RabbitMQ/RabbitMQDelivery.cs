using RabbitMQ.Client;

namespace GracefulShutdown.RabbitMQ;

/// <summary>One message handed to a consumer's handler. Valid only until the handler's task completes.</summary>
public sealed class RabbitMQDelivery
{
    internal RabbitMQDelivery(IChannel channel, ReadOnlyMemory<byte> body, IReadOnlyBasicProperties properties, string exchange,
        string routingKey, bool redelivered)
    {
        Channel = channel;
        Body = body;
        Properties = properties;
        Exchange = exchange;
        RoutingKey = routingKey;
        Redelivered = redelivered;
    }

    /// <summary>Gets the consumer's channel, e.g. to publish a result before the delivery is acked. Do not ack or nack on it.</summary>
    public IChannel Channel { get; }

    /// <summary>Gets the message body. The memory belongs to the client: copy it to keep it after the handler returns.</summary>
    public ReadOnlyMemory<byte> Body { get; }

    /// <summary>Gets the message properties (message id, headers, …).</summary>
    public IReadOnlyBasicProperties Properties { get; }

    /// <summary>Gets the exchange the message was published to.</summary>
    public string Exchange { get; }

    /// <summary>Gets the routing key the message was published with.</summary>
    public string RoutingKey { get; }

    /// <summary>Gets whether the broker delivered this message before (to any consumer) without an ack.</summary>
    public bool Redelivered { get; }
}
