using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace GracefulShutdown.WorkerSample;

/// <summary>
/// The baseline (Sample:UseLibrary=false): the BackgroundService consumer most apps have today, shaped like the RabbitMQ .NET
/// tutorials (rabbitmq-tutorials dotnet/Receive: <c>autoAck: true</c>; dotnet/Worker: ack after the work) inside the usual
/// hosted service: connection and channel live as long as ExecuteAsync, which waits on the stopping token. The handler does not
/// see that token (the tutorials' handlers take none), the consumer is never cancelled, and when the host stops the channel
/// and connection are disposed under whatever is in flight. Sample:PlainAck picks the tutorial:
/// <list type="bullet">
/// <item><c>manual</c> (default): ack after the result is published; prefetch Worker:Prefetch.</item>
/// <item><c>auto</c>: <c>autoAck: true</c>; the broker counts a message as done when it sends it (no prefetch limit applies).</item>
/// </list>
/// </summary>
internal sealed class PlainConsumer(WorkerSettings settings, ResultPublisher publisher, PlainReadiness readiness, ILogger<PlainConsumer> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        bool autoAck = settings.PlainAck == PlainAck.Auto;
        var factory = new ConnectionFactory { Uri = settings.Url, ClientProvidedName = "WorkerSample (plain)" };
        await using IConnection connection = await factory.CreateConnectionAsync(stoppingToken);
        await using IChannel channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true), stoppingToken);
        if (!autoAck)
        {
            await channel.BasicQosAsync(0, (ushort)settings.Prefetch, false, stoppingToken);
        }

        await OrderProcessing.DeclareQueuesAsync(channel, settings, stoppingToken);
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += async (_, delivery) =>
        {
            await OrderProcessing.ProcessAsync(channel, publisher, settings, delivery.Body, delivery.BasicProperties, CancellationToken.None);
            if (!autoAck)
            {
                await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false);
            }
        };
        await channel.BasicConsumeAsync(settings.Queue, autoAck, consumer, stoppingToken);
        readiness.Ready = true;
        logger.LogInformation("Plain consumer consuming {Queue} (autoAck: {AutoAck})", settings.Queue, autoAck);
        try
        {
            await Task.Delay(Timeout.Infinite, stoppingToken);
        }
        catch (OperationCanceledException)
        {
            readiness.Ready = false;
        }
    }
}

/// <summary>The baseline's readiness: consuming, and not yet stopping.</summary>
internal sealed class PlainReadiness
{
    public volatile bool Ready;
}
