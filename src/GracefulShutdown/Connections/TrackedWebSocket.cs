using System.Net.WebSockets;
using Microsoft.AspNetCore.Http;

namespace GracefulShutdown.Connections;

/// <summary>
/// The WebSocket the application gets from <c>AcceptWebSocketAsync</c>: the server's own socket, which the library can close
/// with 1001 when the traffic wait is over. After that close, the application's own close calls (the usual answer to the
/// client's closing handshake) complete instead of throwing on a socket that is already closed.
/// </summary>
internal sealed class TrackedWebSocket : WebSocket
{
    private readonly WebSocket _inner;
    private int _closedByServer;

    public TrackedWebSocket(WebSocket inner, HttpContext context)
    {
        _inner = inner;
        Context = context;
    }

    public HttpContext Context { get; }

    /// <summary>Gets a value indicating whether the library sent the closing handshake.</summary>
    public bool ClosedByServer => Volatile.Read(ref _closedByServer) == 1;

    /// <summary>Sends the closing handshake (1001, "going away"); the application's receive loop then sees the client's answer.</summary>
    /// <returns>Whether this call sent it (false if the socket was closing already).</returns>
    public async Task<bool> CloseGoingAwayAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _closedByServer, 1) == 1 || _inner.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            return false;
        }

        await _inner.CloseOutputAsync(WebSocketCloseStatus.EndpointUnavailable, "going away", cancellationToken).ConfigureAwait(false);
        return true;
    }

    public override WebSocketCloseStatus? CloseStatus => _inner.CloseStatus;

    public override string? CloseStatusDescription => _inner.CloseStatusDescription;

    public override WebSocketState State => _inner.State;

    public override string? SubProtocol => _inner.SubProtocol;

    public override void Abort() => _inner.Abort();

    public override Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) =>
        AlreadyClosing ? Task.CompletedTask : _inner.CloseAsync(closeStatus, statusDescription, cancellationToken);

    public override Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) =>
        AlreadyClosing ? Task.CompletedTask : _inner.CloseOutputAsync(closeStatus, statusDescription, cancellationToken);

    public override Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken) =>
        _inner.ReceiveAsync(buffer, cancellationToken);

    public override ValueTask<ValueWebSocketReceiveResult> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
        _inner.ReceiveAsync(buffer, cancellationToken);

    public override Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken) =>
        _inner.SendAsync(buffer, messageType, endOfMessage, cancellationToken);

    public override ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken) =>
        _inner.SendAsync(buffer, messageType, endOfMessage, cancellationToken);

    public override ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, WebSocketMessageFlags messageFlags,
        CancellationToken cancellationToken) =>
        _inner.SendAsync(buffer, messageType, messageFlags, cancellationToken);

    public override void Dispose() => _inner.Dispose();

    // Our close went first: the app's close (CloseSent/Closed state) would throw on the inner socket; the handshake is ours.
    private bool AlreadyClosing => ClosedByServer && _inner.State is WebSocketState.CloseSent or WebSocketState.Closed;
}
