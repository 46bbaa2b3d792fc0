using System.Net.WebSockets;

namespace GracefulShutdown.Tests.Connections;

/// <summary>A server-side WebSocket that records the close it was asked to send, with the fake time it happened at.</summary>
internal sealed class FakeWebSocket(TimeProvider time, SemaphoreSlim? closes = null) : WebSocket
{
    private WebSocketState _state = WebSocketState.Open;

    public DateTimeOffset? ClosedAt { get; private set; }

    public WebSocketCloseStatus? SentStatus { get; private set; }

    public bool Aborted { get; private set; }

    public override WebSocketCloseStatus? CloseStatus => SentStatus;

    public override string? CloseStatusDescription => null;

    public override WebSocketState State => _state;

    public override string? SubProtocol => null;

    /// <summary>The client answered the close: the handshake is complete.</summary>
    public void ClientAnsweredClose() => _state = WebSocketState.Closed;

    public override void Abort()
    {
        Aborted = true;
        _state = WebSocketState.Aborted;
    }

    public override Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) =>
        _state is WebSocketState.Open or WebSocketState.CloseReceived or WebSocketState.CloseSent
            ? CloseOutputAsync(closeStatus, statusDescription, cancellationToken)
            : Task.FromException(new WebSocketException(WebSocketError.InvalidState)); // like ManagedWebSocket once Closed

    public override Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken)
    {
        if (_state is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            return Task.FromException(new WebSocketException(WebSocketError.InvalidState));
        }

        SentStatus = closeStatus;
        ClosedAt = time.GetUtcNow();
        _state = WebSocketState.CloseSent;
        closes?.Release();
        return Task.CompletedTask;
    }

    public override Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken) =>
        throw new NotSupportedException();

    public override Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken) =>
        throw new NotSupportedException();

    public override void Dispose()
    {
    }
}
