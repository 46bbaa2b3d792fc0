using RabbitMQ.Client;

namespace GracefulShutdown.WorkerSample;

/// <summary>
/// The work itself, the same in both modes: wait ProcessingMs, publish the body to the result queue (persistent, confirmed) on
/// the consumer's channel or, with Worker:ResultConnection=own, through <see cref="ResultPublisher"/>.
/// </summary>
internal static class OrderProcessing
{
    public static Task DeclareQueuesAsync(IChannel channel, WorkerSettings settings, CancellationToken cancellationToken) =>
        Task.WhenAll(
            channel.QueueDeclareAsync(settings.Queue, durable: true, exclusive: false, autoDelete: false, arguments: null,
                cancellationToken: cancellationToken),
            channel.QueueDeclareAsync(settings.ResultQueue, durable: true, exclusive: false, autoDelete: false, arguments: null,
                cancellationToken: cancellationToken));

    public static async Task ProcessAsync(IChannel channel, ResultPublisher publisher, WorkerSettings settings, ReadOnlyMemory<byte> body,
        IReadOnlyBasicProperties properties, CancellationToken cancellationToken)
    {
        await Task.Delay(TimeSpan.FromMilliseconds(settings.ProcessingMs), cancellationToken);
        var result = new BasicProperties { Persistent = true, MessageId = properties.MessageId, ContentType = properties.ContentType };
        byte[] bytes = body.ToArray();
        if (settings.OwnResultConnection)
        {
            await publisher.PublishAsync(result, bytes, cancellationToken);
        }
        else
        {
            await channel.BasicPublishAsync(string.Empty, settings.ResultQueue, mandatory: false, result, bytes, cancellationToken);
        }
    }
}
