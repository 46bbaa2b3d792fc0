using Grpc.Core;

namespace GracefulShutdown.Grpc.Streams;

/// <summary>
/// The response stream as the handler sees it. Once the call has been ended for the drain it refuses further writes, so a
/// handler that ignores its token cannot write into a completed response.
/// </summary>
internal sealed class DrainingStreamWriter<T>(IServerStreamWriter<T> inner, CancellationToken canceled) : IServerStreamWriter<T>
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private bool _closed;

    public WriteOptions? WriteOptions
    {
        get => inner.WriteOptions;
        set => inner.WriteOptions = value;
    }

    public Task WriteAsync(T message) => WriteAsync(message, CancellationToken.None);

    public async Task WriteAsync(T message, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_closed)
            {
                throw new OperationCanceledException("The call was ended because the server is shutting down.", canceled);
            }

            await inner.WriteAsync(message, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Refuses further writes once a write in progress has finished (or <paramref name="giveUp"/> fires).</summary>
    public async Task CloseAsync(CancellationToken giveUp)
    {
        try
        {
            await _gate.WaitAsync(giveUp).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // A write stuck on flow control: the abort at the drain timeout ends it.
            _closed = true;
            return;
        }

        _closed = true;
        _gate.Release();
    }
}
