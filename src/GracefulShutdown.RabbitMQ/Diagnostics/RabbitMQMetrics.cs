using System.Diagnostics.Metrics;

namespace GracefulShutdown.RabbitMQ.Diagnostics;

/// <summary>Every instrument of the RabbitMQ add-on, on the meter <c>GracefulShutdown.RabbitMQ</c>, created once.</summary>
internal sealed class RabbitMQMetrics
{
    public const string MeterName = "GracefulShutdown.RabbitMQ";

    private readonly Counter<long> _deliveries;

    public RabbitMQMetrics(IMeterFactory meterFactory)
    {
        Meter meter = meterFactory.Create(MeterName);
        _deliveries = meter.CreateCounter<long>("graceful_shutdown.rabbitmq.deliveries", "{delivery}",
            "Deliveries settled by the consumers, by outcome: acked, returned (received but not started, requeued), failed_requeued, failed_dead_lettered.");
    }

    public void Settled(string consumer, string outcome) =>
        _deliveries.Add(1, new KeyValuePair<string, object?>("consumer", consumer), new KeyValuePair<string, object?>("outcome", outcome));
}
