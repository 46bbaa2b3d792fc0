using RabbitMQ.Client;

namespace GracefulShutdown.RabbitMQ;

/// <summary>
/// One consumer of the RabbitMQ add-on, bound from <c>GracefulShutdown:RabbitMQ:&lt;name&gt;</c> (unknown keys fail start-up) and
/// configurable in code after that.
/// </summary>
public sealed class RabbitMQConsumerOptions
{
    /// <summary>The configuration section the consumer named <c>name</c> binds: <c>GracefulShutdown:RabbitMQ:name</c>.</summary>
    public const string SectionPrefix = "GracefulShutdown:RabbitMQ:";

    /// <summary>Gets or sets the broker, e.g. <c>amqp://guest:guest@127.0.0.1:5672/</c>.</summary>
    /// <value>The default value is <see langword="null"/>: required.</value>
    public Uri? Url { get; set; }

    /// <summary>Gets or sets the queue to consume.</summary>
    /// <value>The default value is empty: required.</value>
    public string Queue { get; set; } = string.Empty;

    /// <summary>
    /// Gets or sets whether the consumer declares <see cref="Queue"/> as a durable classic queue without arguments before
    /// consuming it.
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool DeclareQueue { get; set; }

    /// <summary>Gets or sets how many unacknowledged deliveries the broker sends ahead (basic.qos prefetch count).</summary>
    /// <value>The default value is 10. From 1 to 65535.</value>
    public int Prefetch { get; set; } = 10;

    /// <summary>Gets or sets what happens to a delivery whose handler throws.</summary>
    /// <value>The default value is <see cref="RabbitMQFailurePolicy.Requeue"/>: nothing is lost.</value>
    public RabbitMQFailurePolicy OnFailure { get; set; } = RabbitMQFailurePolicy.Requeue;

    /// <summary>Gets or sets whether readiness includes the broker connection (a health check tagged <c>ready</c>).</summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool IncludeInReadiness { get; set; } = true;

    /// <summary>Gets or sets how long to wait between attempts to connect while the broker is unreachable at start.</summary>
    /// <value>The default value is 2 seconds. From 10 milliseconds to 5 minutes.</value>
    public TimeSpan ConnectRetryInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Gets or sets work to do on the consumer's channel once it is open and before consuming starts (declare the queues the
    /// handler publishes to, …). Code only.
    /// </summary>
    public Func<IChannel, CancellationToken, Task>? ConfigureChannel { get; set; }
}
