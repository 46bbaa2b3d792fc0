using System.Threading.Channels;
using GracefulShutdown;

namespace GracefulShutdown.Sample;

/// <summary>An in-process queue standing in for a message broker: POST /orders?ms=N puts an order that takes N ms to handle.</summary>
internal sealed class OrderQueue
{
    private readonly Channel<(int Id, int Ms)> _channel = Channel.CreateUnbounded<(int Id, int Ms)>();
    private int _lastId;

    public ChannelReader<(int Id, int Ms)> Reader => _channel.Reader;

    public int Enqueue(int ms)
    {
        int id = Interlocked.Increment(ref _lastId);
        _channel.Writer.TryWrite((id, ms));
        return id;
    }
}

/// <summary>
/// The recipe for a message consumer: stop taking new messages when the drain begins (<see cref="IGracefulShutdown.DrainStarted"/>),
/// hold the stop with <see cref="IGracefulShutdown.BeginWork"/> until the message in hand is done, and give up at
/// <see cref="IGracefulShutdown.DrainDeadline"/> (a real broker would then redeliver it to another replica).
/// </summary>
internal sealed class OrdersConsumer(OrderQueue queue, IServiceProvider services, ILogger<OrdersConsumer> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        IGracefulShutdown? shutdown = services.GetService<IGracefulShutdown>(); // null in the plain baseline
        using var stopTaking = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, shutdown?.DrainStarted ?? CancellationToken.None);
        using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, shutdown?.DrainDeadline ?? CancellationToken.None);
        while (true)
        {
            (int Id, int Ms) order;
            try
            {
                order = await queue.Reader.ReadAsync(stopTaking.Token);
            }
            catch (OperationCanceledException)
            {
                logger.LogInformation("Orders: the drain began; taking no new orders");
                return;
            }

            using IDisposable? work = shutdown?.BeginWork("orders");
            logger.LogInformation("Order {Id} started ({Ms} ms)", order.Id, order.Ms);
            try
            {
                await Task.Delay(order.Ms, giveUp.Token);
                logger.LogInformation("Order {Id} done", order.Id);
            }
            catch (OperationCanceledException)
            {
                logger.LogWarning("Order {Id} given up at the drain deadline; it goes back to the queue", order.Id);
                return;
            }
        }
    }
}
