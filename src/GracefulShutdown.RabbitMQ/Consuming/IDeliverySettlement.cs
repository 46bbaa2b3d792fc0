namespace GracefulShutdown.RabbitMQ.Consuming;

/// <summary>How the intake settles a delivery with the broker: the channel in production, a fake in the contract's tests.</summary>
internal interface IDeliverySettlement
{
    ValueTask AckAsync(ulong deliveryTag, CancellationToken cancellationToken);

    ValueTask NackAsync(ulong deliveryTag, bool requeue, CancellationToken cancellationToken);
}
