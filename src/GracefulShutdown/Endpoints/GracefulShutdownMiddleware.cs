using GracefulShutdown.Connections;
using GracefulShutdown.Lifecycle;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulShutdown.Endpoints;

/// <summary>
/// Put first in the pipeline by <see cref="GracefulShutdownStartupFilter"/>: answers the library's endpoints (unless the app
/// mapped them as routes), counts the app's in-flight requests, and while draining closes each connection after its response.
/// For upgrade requests only, it records the WebSocket the app accepts (see <see cref="WebSocketTracking"/>).
/// </summary>
/// <remarks>This is the per-request hot path: it must not allocate.</remarks>
internal sealed class GracefulShutdownMiddleware
{
    private static readonly Func<object, Task> s_onCompleted = static requests =>
    {
        ((RequestTracker)requests).OnRequestFinished();
        return Task.CompletedTask;
    };

    private readonly RequestDelegate _next;
    private readonly LifecycleState _state;
    private readonly RequestTracker _requests;
    private readonly LifecycleEndpoints _endpoints;
    private readonly IServiceProvider _services;
    private readonly bool _closeWhileDraining;
    private readonly string[] _ignoredPaths;
    private readonly WebSocketRegistry? _webSockets;
    private readonly HealthCheckerRequests? _checkers;
    private readonly string[] _checkerPaths;
    private int _appMappedEndpoints = -1;

    public GracefulShutdownMiddleware(RequestDelegate next, LifecycleState state, RequestTracker requests, LifecycleEndpoints endpoints,
        WebSocketRegistry webSockets, IServiceProvider services)
    {
        HealthCheckerRequests? checkers = services.GetService<HealthCheckerRequests>();
        _checkers = checkers is { Enabled: true } ? checkers : null;
        _checkerPaths = _checkers?.DeclaredPaths ?? [];
        _next = next;
        _state = state;
        _requests = requests;
        _endpoints = endpoints;
        _services = services;
        _closeWhileDraining = endpoints.Options.Connections.CloseKeepAliveWhileDraining;
        _ignoredPaths = endpoints.Options.TrafficWait.IgnoredPaths;
        _webSockets = endpoints.Options.Connections.CloseWebSockets ? webSockets : null;
    }

    public Task InvokeAsync(HttpContext context)
    {
        if (_endpoints.Match(context) is RequestDelegate endpoint)
        {
            // Probes and preStop are not traffic: they must not keep the traffic wait going.
            if (_closeWhileDraining && _state.IsDraining)
            {
                CloseConnectionAfterResponse(context);
            }

            RequestDelegate handler = AppMappedEndpoints() ? _next : endpoint;

            // The balancers' health checks are evidence (docs/health-checkers.md): only readiness probes reach the ledger.
            return _checkers is not null && ReferenceEquals(endpoint, _endpoints.Probes.Readiness)
                ? _checkers.ObserveAsync(context, handler, grpc: false)
                : handler(context);
        }

        // Health protocols served by the app (gRPC health) are probes too: not counted, never extending the wait.
        if (_ignoredPaths.Length != 0 && IsIgnored(context.Request.Path.Value))
        {
            return _checkers is not null && HealthCheckerRequests.IsGrpcHealthCheck(context.Request.Path.Value)
                ? _checkers.ObserveAsync(context, _next, grpc: true)
                : _next(context);
        }

        // Paths the user declared as health-check paths: a recognised checker's probe is evidence, not traffic.
        if (_checkerPaths.Length != 0 && _checkers!.IsDeclaredCheck(context, context.Request.Path.Value))
        {
            return _checkers.ObserveAsync(context, _next, grpc: false);
        }

        if (_requests.OnRequestStarted())
        {
            // Draining: off the hot path. Who still sends traffic tells the user which balancer is slow.
            _requests.RecordLateCaller(context.Connection.RemoteIpAddress);
            if (_closeWhileDraining)
            {
                CloseConnectionAfterResponse(context);
            }
        }

        // The count drops when the server completes the response, whatever the app did (threw, aborted). A static callback
        // with the singleton as its state allocates nothing: Kestrel reuses its per-connection callback stack, whereas
        // awaiting the app's task here would box a state machine for every asynchronous request.
        context.Response.OnCompleted(s_onCompleted, _requests);
        if (_webSockets is not null && WebSocketTracking.IsUpgrade(context))
        {
            return InvokeUpgradeAsync(context, _webSockets);
        }

        return _next(context);
    }

    /// <summary>Upgrade requests only (WebSockets): records the socket the app accepts, so that it can be closed in time.</summary>
    private async Task InvokeUpgradeAsync(HttpContext context, WebSocketRegistry webSockets)
    {
        var tracking = new WebSocketTracking(context, webSockets);
        tracking.Install();
        try
        {
            await _next(context).ConfigureAwait(false);
        }
        finally
        {
            if (tracking.Socket is { } socket)
            {
                webSockets.Remove(socket);
            }
        }
    }

    private bool IsIgnored(string? path)
    {
        foreach (string prefix in _ignoredPaths)
        {
            if (path is not null && path.StartsWith(prefix, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Whether the app mapped the endpoints as routes (they then run after its own middleware). Read once from the routes,
    /// on the first request to an endpoint, when every route exists.
    /// </summary>
    private bool AppMappedEndpoints()
    {
        int mapped = Volatile.Read(ref _appMappedEndpoints);
        if (mapped < 0)
        {
            bool found = _services.GetService<EndpointDataSource>()?.Endpoints
                .Any(static e => e.Metadata.GetMetadata<MappedGracefulShutdownEndpoint>() is not null) ?? false;
            mapped = found ? 1 : 0;
            Volatile.Write(ref _appMappedEndpoints, mapped);
        }

        return mapped == 1;
    }

    /// <summary>
    /// Tells pooled clients to reconnect elsewhere: Kestrel answers HTTP/1.1 with <c>Connection: close</c> and sends HTTP/2 GOAWAY.
    /// </summary>
    /// <remarks>
    /// HTTP/1.x always: <c>Connection: close</c> is race-free. HTTP/2 and HTTP/3 only on connections accepted before the drain
    /// began (<see cref="DrainConnectionMarker"/>): those may be pinned here by a balancer that has already moved on.
    /// </remarks>
    private static void CloseConnectionAfterResponse(HttpContext context)
    {
        if (HttpProtocol.IsHttp11(context.Request.Protocol) || HttpProtocol.IsHttp10(context.Request.Protocol))
        {
            context.Response.Headers.Connection = "close";
        }
        else if (context.Features.Get<DrainConnectionMarker.OpenedWhileDraining>() is not null)
        {
            return;
        }

        context.Features.Get<IConnectionLifetimeNotificationFeature>()?.RequestClose();
    }
}
