using System.Net.WebSockets;

namespace GracefulShutdown.Testing.Harness;

/// <summary>WebSocket clients that stay connected through the balancer and reconnect whenever their connection ends.</summary>
internal sealed class WebSocketLoad
{
    private static readonly TimeSpan s_connectTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan s_reconnectDelay = TimeSpan.FromMilliseconds(100);
    private readonly RolloutOptions _options;
    private readonly Uri _endpoint;
    private readonly FailureCounter _failures;
    private readonly FailureCounter _ends = new();
    private long _connections;
    private long _failed;

    public WebSocketLoad(RolloutOptions options, Uri balancer, FailureCounter failures)
    {
        _options = options;
        _failures = failures;
        var builder = new UriBuilder(new Uri(balancer, options.WebSocketPath)) { Scheme = "ws" };
        _endpoint = builder.Uri;
    }

    public long Connections => Interlocked.Read(ref _connections);

    public long Failed => Interlocked.Read(ref _failed);

    public IReadOnlyDictionary<string, long> Ends => _ends.Snapshot();

    public Task RunAsync(CancellationToken stop) =>
        Task.WhenAll(Enumerable.Range(0, _options.WebSocketClients).Select(_ => Task.Run(() => ClientAsync(stop), CancellationToken.None)));

    private async Task ClientAsync(CancellationToken stop)
    {
        byte[] buffer = new byte[4096];
        while (!stop.IsCancellationRequested)
        {
            using var socket = new ClientWebSocket();
            try
            {
                using (var connect = CancellationTokenSource.CreateLinkedTokenSource(stop))
                {
                    connect.CancelAfter(s_connectTimeout);
                    await socket.ConnectAsync(_endpoint, connect.Token).ConfigureAwait(false);
                }

                Interlocked.Increment(ref _connections);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
                if (stop.IsCancellationRequested)
                {
                    return;
                }

                Fail($"WebSocket connect: {(ex is WebSocketException ws ? ws.WebSocketErrorCode.ToString() : "timeout")}");
                await DelayAsync(stop).ConfigureAwait(false);
                continue;
            }

            await ReceiveUntilEndAsync(socket, buffer, stop).ConfigureAwait(false);
            await DelayAsync(stop).ConfigureAwait(false);
        }
    }

    private async Task ReceiveUntilEndAsync(ClientWebSocket socket, byte[] buffer, CancellationToken stop)
    {
        try
        {
            while (true)
            {
                ValueWebSocketReceiveResult received = await socket.ReceiveAsync(buffer.AsMemory(), stop).ConfigureAwait(false);
                if (received.MessageType != WebSocketMessageType.Close)
                {
                    continue;
                }

                int code = (int)(socket.CloseStatus ?? WebSocketCloseStatus.Empty);
                string kind = $"close {code}";
                _ends.Add(kind);
                if (code is not (1000 or 1001))
                {
                    Fail($"WebSocket {kind}");
                }

                await AnswerCloseAsync(socket).ConfigureAwait(false);
                return;
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            if (stop.IsCancellationRequested)
            {
                return; // the rollout is over: the client leaves (not counted)
            }

            _ends.Add("aborted");
            Fail("WebSocket aborted (no close frame)");
        }
    }

    /// <summary>The client's half of the closing handshake; the close already counted, so a connection gone meanwhile is no failure.</summary>
    private async Task AnswerCloseAsync(ClientWebSocket socket)
    {
        try
        {
            using var answer = new CancellationTokenSource(s_connectTimeout, _options.TimeProvider);
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, answer.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
        }
    }

    private void Fail(string kind)
    {
        Interlocked.Increment(ref _failed);
        _failures.Add(kind);
    }

    private async Task DelayAsync(CancellationToken stop)
    {
        try
        {
            await Task.Delay(s_reconnectDelay, _options.TimeProvider, stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
