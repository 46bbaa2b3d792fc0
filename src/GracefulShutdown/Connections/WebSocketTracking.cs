using System.Net.WebSockets;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;

namespace GracefulShutdown.Connections;

/// <summary>
/// Finds the WebSockets an application accepts without any change to its code. The WebSocket middleware (the app's
/// <c>UseWebSockets()</c>, or SignalR's own) sets its handshake feature later in the pipeline, and the handshake asks the
/// upgrade feature whether the request is upgradable before it accepts. The library's middleware therefore wraps the upgrade
/// feature of upgrade requests only; at that question it puts a tracking wrapper around the handshake feature, whose
/// <c>AcceptAsync</c> records the socket. The WebSocket middleware's own checks (allowed origins, options) are untouched.
/// </summary>
internal sealed class WebSocketTracking(HttpContext context, WebSocketRegistry registry)
{
    public TrackedWebSocket? Socket { get; private set; }

    /// <summary>
    /// Whether the request asks for an upgrade (HTTP/1.1 <c>Upgrade</c>, or an HTTP/2 extended CONNECT). Called for every request:
    /// two feature lookups, no allocation.
    /// </summary>
    /// <remarks>
    /// Runs for every request, so the cheap test comes first: an HTTP/1.1 upgrade carries a <c>Connection</c> header (a typed
    /// field in Kestrel) and an HTTP/2 WebSocket is a CONNECT; only then is the feature asked.
    /// </remarks>
    public static bool IsUpgrade(HttpContext context)
    {
        HttpRequest request = context.Request;
        if (HttpMethods.IsConnect(request.Method))
        {
            return context.Features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true };
        }

        return !StringValues.IsNullOrEmpty(request.Headers.Connection) &&
            context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true };
    }

    /// <summary>Wraps the request's upgrade features (and the handshake feature, if the WebSocket middleware already set it).</summary>
    public void Install()
    {
        IFeatureCollection features = context.Features;
        if (features.Get<IHttpUpgradeFeature>() is { } upgrade)
        {
            features.Set<IHttpUpgradeFeature>(new UpgradeFeature(upgrade, this));
        }

        if (features.Get<IHttpExtendedConnectFeature>() is { } connect)
        {
            features.Set<IHttpExtendedConnectFeature>(new ConnectFeature(connect, this));
        }

        WrapWebSocketFeature();
    }

    private void WrapWebSocketFeature()
    {
        if (context.Features.Get<IHttpWebSocketFeature>() is { } feature and not WebSocketFeature)
        {
            context.Features.Set<IHttpWebSocketFeature>(new WebSocketFeature(feature, this));
        }
    }

    private async Task<WebSocket> AcceptAsync(IHttpWebSocketFeature inner, WebSocketAcceptContext acceptContext)
    {
        WebSocket socket = await inner.AcceptAsync(acceptContext).ConfigureAwait(false);
        var tracked = new TrackedWebSocket(socket, context);
        Socket = tracked;
        registry.Add(tracked);
        return tracked;
    }

    private sealed class UpgradeFeature(IHttpUpgradeFeature inner, WebSocketTracking tracking) : IHttpUpgradeFeature
    {
        public bool IsUpgradableRequest
        {
            get
            {
                tracking.WrapWebSocketFeature();
                return inner.IsUpgradableRequest;
            }
        }

        public Task<Stream> UpgradeAsync() => inner.UpgradeAsync();
    }

    private sealed class ConnectFeature(IHttpExtendedConnectFeature inner, WebSocketTracking tracking) : IHttpExtendedConnectFeature
    {
        public bool IsExtendedConnect
        {
            get
            {
                tracking.WrapWebSocketFeature();
                return inner.IsExtendedConnect;
            }
        }

        public string? Protocol => inner.Protocol;

        public ValueTask<Stream> AcceptAsync() => inner.AcceptAsync();
    }

    private sealed class WebSocketFeature(IHttpWebSocketFeature inner, WebSocketTracking tracking) : IHttpWebSocketFeature
    {
        public bool IsWebSocketRequest => inner.IsWebSocketRequest;

        public Task<WebSocket> AcceptAsync(WebSocketAcceptContext context) => tracking.AcceptAsync(inner, context);
    }
}
