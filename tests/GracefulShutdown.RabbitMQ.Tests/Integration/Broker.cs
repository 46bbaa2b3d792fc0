using System.Collections.Concurrent;
using System.Text;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace GracefulShutdown.RabbitMQ.Tests.Integration;

/// <summary>
/// The test broker build/rabbitmq.sh starts (GRACEFULSHUTDOWN_RABBITMQ_URL); tests without it are skipped. Each test uses its
/// own queues.
/// </summary>
internal sealed class Broker : IAsyncDisposable
{
    public const string UrlVariable = "GRACEFULSHUTDOWN_RABBITMQ_URL";

    private readonly IConnection _connection;
    private readonly IChannel _channel;

    private Broker(Uri url, IConnection connection, IChannel channel, string queue)
    {
        Url = url;
        _connection = connection;
        _channel = channel;
        Queue = queue;
        ResultQueue = queue + ".done";
    }

    public Uri Url { get; }

    public string Queue { get; }

    public string ResultQueue { get; }

    public static async Task<Broker> ConnectAsync()
    {
        string? url = Environment.GetEnvironmentVariable(UrlVariable);
        Skip.If(string.IsNullOrEmpty(url), $"{UrlVariable} is not set: run build/rabbitmq.sh start (build/test.sh does).");
        var factory = new ConnectionFactory { Uri = new Uri(url) };
        IConnection connection = await factory.CreateConnectionAsync();
        IChannel channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true));
        var broker = new Broker(new Uri(url), connection, channel, "orders-" + Guid.NewGuid().ToString("N")[..8]);
        foreach (string queue in (string[])[broker.Queue, broker.ResultQueue])
        {
            await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, arguments: null);
        }

        return broker;
    }

    public string[] WorkerArguments(int managementPort, bool useLibrary = true) =>
    [
        $"--RabbitMQ:Url={Url}", $"--Worker:Queue={Queue}", $"--Worker:ResultQueue={ResultQueue}",
        $"--GracefulShutdown:ManagementPort={managementPort}", $"--Sample:UseLibrary={useLibrary}",
    ];

    /// <summary>Publishes <paramref name="count"/> persistent messages whose body and message id are their id.</summary>
    public async Task<string[]> PublishAsync(int count)
    {
        string[] ids = [.. Enumerable.Range(0, count).Select(i => $"id-{i:D5}")];
        foreach (string id in ids)
        {
            var properties = new BasicProperties { Persistent = true, MessageId = id };
            await _channel.BasicPublishAsync(string.Empty, Queue, mandatory: false, properties, Encoding.UTF8.GetBytes(id));
        }

        return ids;
    }

    /// <summary>Completes once <paramref name="count"/> distinct ids are in the result queue (a consumer counts them, no polling).</summary>
    public Task<ResultCounter> CountResultsAsync(int count) => CountAsync(ResultQueue, new ResultCounter(count));

    /// <summary>Counts the ids delivered from <paramref name="queue"/> into <paramref name="counter"/> (acknowledged on receipt).</summary>
    public async Task<ResultCounter> CountAsync(string queue, ResultCounter counter)
    {
        var consumer = new AsyncEventingBasicConsumer(_channel);
        consumer.ReceivedAsync += (_, delivery) =>
        {
            counter.Add(Encoding.UTF8.GetString(delivery.Body.Span));
            return Task.CompletedTask;
        };
        await _channel.BasicConsumeAsync(queue, autoAck: true, consumer);
        return counter;
    }

    public async Task<uint> MessageCountAsync(string queue) =>
        (await _channel.QueueDeclarePassiveAsync(queue)).MessageCount;

    public async ValueTask DisposeAsync()
    {
        foreach (string queue in (string[])[Queue, ResultQueue])
        {
            await _channel.QueueDeleteAsync(queue);
        }

        await _channel.CloseAsync();
        await _connection.CloseAsync();
        _channel.Dispose();
        _connection.Dispose();
    }

    public sealed class ResultCounter(int expected)
    {
        private readonly TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ConcurrentDictionary<string, int> Seen { get; } = new();

        public Task All => _all.Task;

        public void Add(string id)
        {
            Seen.AddOrUpdate(id, 1, static (_, n) => n + 1);
            if (Seen.Count >= expected)
            {
                _all.TrySetResult();
            }
        }
    }
}
