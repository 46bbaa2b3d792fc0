using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace GracefulShutdown.WorkerSample;

/// <summary>
/// The baseline (Sample:UseLibrary=false): the BackgroundService consumer most apps have today. The stopping token cancels the
/// message in hand, the prefetched deliveries are left to the connection's close, and nothing tells a load balancer anything.
/// </summary>
internal sealed class PlainConsumer(WorkerSettings settings, PlainReadiness readiness, ILogger<PlainConsumer> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var factory = new ConnectionFactory { Uri = settings.Url, ClientProvidedName = "WorkerSample (plain)" };
        await using IConnection connection = await factory.CreateConnectionAsync(stoppingToken);
        await using IChannel channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true), stoppingToken);
        await channel.BasicQosAsync(0, (ushort)settings.Prefetch, false, stoppingToken);
        await OrderProcessing.DeclareQueuesAsync(channel, settings, stoppingToken);
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += async (_, delivery) =>
        {
            await OrderProcessing.ProcessAsync(channel, settings, delivery.Body, delivery.BasicProperties, stoppingToken);
            await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false, stoppingToken);
        };
        await channel.BasicConsumeAsync(settings.Queue, autoAck: false, consumer, stoppingToken);
        readiness.Ready = true;
        logger.LogInformation("Plain consumer consuming {Queue}", settings.Queue);
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
