using System.Collections.Concurrent;
using GracefulShutdown.RabbitMQ.Consuming;

namespace GracefulShutdown.RabbitMQ.Tests;

/// <summary>What the intake told the broker, in order; optionally a broker that has gone away.</summary>
internal sealed class FakeSettlement : IDeliverySettlement
{
    public ConcurrentQueue<string> Calls { get; } = new();

    public bool BrokerGone { get; set; }

    public ValueTask AckAsync(ulong deliveryTag, CancellationToken cancellationToken) => Record($"ack {deliveryTag}");

    public ValueTask NackAsync(ulong deliveryTag, bool requeue, CancellationToken cancellationToken) =>
        Record($"nack {deliveryTag} requeue={requeue}");

    private ValueTask Record(string call)
    {
        if (BrokerGone)
        {
            throw new InvalidOperationException("Already closed: the broker went away.");
        }

        Calls.Enqueue(call);
        return ValueTask.CompletedTask;
    }
}
