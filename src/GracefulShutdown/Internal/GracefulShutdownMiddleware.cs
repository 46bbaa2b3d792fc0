using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;

namespace GracefulShutdown.Internal;

/// <summary>
/// Added first in the pipeline by <see cref="GracefulShutdownStartupFilter"/>: answers the library's endpoints (unless the app
/// mapped them), counts the app's in-flight requests, and while draining closes each connection after its response.
/// </summary>
/// <remarks>This is the per-request hot path: it must not allocate.</remarks>
internal sealed class GracefulShutdownMiddleware
{
    private static readonly Func<object, Task> s_onCompleted = static coordinator =>
    {
        ((ShutdownCoordinator)coordinator).OnRequestFinished();
        return Task.CompletedTask;
    };

    private readonly RequestDelegate _next;
    private readonly ShutdownCoordinator _coordinator;
    private readonly LifecycleEndpoints _endpoints;
    private readonly bool _serveEndpoints;
    private readonly bool _closeWhileDraining;

    public GracefulShutdownMiddleware(RequestDelegate next, ShutdownCoordinator coordinator, LifecycleEndpoints endpoints)
    {
        _next = next;
        _coordinator = coordinator;
        _endpoints = endpoints;

        // The pipeline is built when the host starts, after the app's Map… calls.
        _serveEndpoints = !endpoints.MappedByApp;
        _closeWhileDraining = endpoints.Options.CloseConnectionsWhileDraining;
    }

    public Task InvokeAsync(HttpContext context)
    {
        if (_endpoints.Match(context) is RequestDelegate endpoint)
        {
            // Probes and preStop are not traffic: they must not keep the traffic wait going.
            if (_closeWhileDraining && _coordinator.IsDraining)
            {
                CloseConnectionAfterResponse(context);
            }

            return _serveEndpoints ? endpoint(context) : _next(context);
        }

        if (_coordinator.OnRequestStarted() && _closeWhileDraining)
        {
            CloseConnectionAfterResponse(context);
        }

        // The count drops when the server completes the response, whatever the app did (threw, aborted). A static callback
        // with the singleton as its state allocates nothing: Kestrel reuses its per-connection callback stack, whereas
        // awaiting the app's task here would box a state machine for every asynchronous request.
        context.Response.OnCompleted(s_onCompleted, _coordinator);
        return _next(context);
    }

    /// <summary>
    /// Tells pooled clients to reconnect elsewhere: Kestrel answers HTTP/1.1 with <c>Connection: close</c> and sends HTTP/2 GOAWAY.
    /// </summary>
    private static void CloseConnectionAfterResponse(HttpContext context)
    {
        context.Features.Get<IConnectionLifetimeNotificationFeature>()?.RequestClose();
        if (HttpProtocol.IsHttp11(context.Request.Protocol) || HttpProtocol.IsHttp10(context.Request.Protocol))
        {
            context.Response.Headers.Connection = "close";
        }
    }
}
