namespace GracefulShutdown.Connections;

/// <summary>
/// Endpoint metadata (<c>DisableGracefulWebSocketClose()</c>): the library leaves this endpoint's WebSockets to the endpoint,
/// which closes them itself on <see cref="IGracefulShutdown.TrafficWaitEnded"/>.
/// </summary>
internal sealed class WebSocketCloseOptOut
{
    public static readonly WebSocketCloseOptOut Instance = new();
}
