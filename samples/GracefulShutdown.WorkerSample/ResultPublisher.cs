using RabbitMQ.Client;

namespace GracefulShutdown.WorkerSample;

/// <summary>
/// Worker:ResultConnection=own: results go out on a publishing connection of the sample's own, apart from the consumer's, as
/// RabbitMQ advises (separate connections for publishing and consuming) and as a handler's other side effects (a database, an
/// HTTP call) live apart from the consumer's channel. Opened at the first publish (a broker down at start holds nothing);
/// closed when the host is disposed, after the hosted services stopped.
/// </summary>
internal sealed class ResultPublisher(WorkerSettings settings) : IAsyncDisposable
{
    private readonly SemaphoreSlim _open = new(1, 1);
    private IConnection? _connection;
    private IChannel? _channel;

    public async Task PublishAsync(BasicProperties properties, byte[] body, CancellationToken cancellationToken)
    {
        IChannel channel = await ChannelAsync(cancellationToken);
        await channel.BasicPublishAsync(string.Empty, settings.ResultQueue, mandatory: false, properties, body, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is { } connection)
        {
            try
            {
                await connection.CloseAsync(TimeSpan.FromSeconds(2));
            }
            catch (Exception) when (!connection.IsOpen)
            {
                // Gone already: nothing to close.
            }

            await connection.DisposeAsync();
        }

        _open.Dispose();
    }

    private async Task<IChannel> ChannelAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _channel) is { IsOpen: true } open)
        {
            return open;
        }

        await _open.WaitAsync(cancellationToken);
        try
        {
            if (_channel is { IsOpen: true } channel)
            {
                return channel;
            }

            if (_connection is not { IsOpen: true })
            {
                var factory = new ConnectionFactory { Uri = settings.Url, ClientProvidedName = "WorkerSample (results)" };
                _connection = await factory.CreateConnectionAsync(cancellationToken);
            }

            channel = await _connection.CreateChannelAsync(new CreateChannelOptions(true, true), cancellationToken);
            Volatile.Write(ref _channel, channel);
            return channel;
        }
        finally
        {
            _open.Release();
        }
    }
}
