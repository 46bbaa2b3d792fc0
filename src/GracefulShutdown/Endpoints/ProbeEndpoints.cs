using System.Buffers;
using GracefulShutdown.Lifecycle;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace GracefulShutdown.Endpoints;

/// <summary>
/// The startup, readiness and liveness probes. They answer from <see cref="ProbeStatus"/> and write pre-encoded bodies:
/// a probe that finds its answer in the cache allocates nothing.
/// </summary>
internal sealed class ProbeEndpoints
{
    private static readonly byte[] s_started = "Started"u8.ToArray();
    private static readonly byte[] s_starting = "Starting"u8.ToArray();
    private static readonly byte[] s_ready = "Ready"u8.ToArray();
    private static readonly byte[] s_draining = "Draining"u8.ToArray();
    private static readonly byte[] s_alive = "Alive"u8.ToArray();
    private static readonly byte[] s_unhealthy = "Unhealthy"u8.ToArray();

    private readonly LifecycleState _state;
    private readonly ProbeStatus _probes;

    public ProbeEndpoints(LifecycleState state, ProbeStatus probes)
    {
        _state = state;
        _probes = probes;
        Startup = context => Handle(context, GracefulShutdownProbe.Startup, s_started);
        Readiness = context => Handle(context, GracefulShutdownProbe.Readiness, s_ready);
        Liveness = context => Handle(context, GracefulShutdownProbe.Liveness, s_alive);
    }

    public RequestDelegate Startup { get; }

    public RequestDelegate Readiness { get; }

    public RequestDelegate Liveness { get; }

    private Task Handle(HttpContext context, GracefulShutdownProbe probe, byte[] healthyBody)
    {
        if (!EndpointResponses.IsGetOrHead(context))
        {
            return EndpointResponses.MethodNotAllowedAsync(context);
        }

        // The library's own state comes first: an intentionally unready instance runs no check and logs no error.
        if (!_probes.StatePasses(probe))
        {
            return Write(context, StatusCodes.Status503ServiceUnavailable, _state.IsDraining ? s_draining : s_starting);
        }

        ValueTask<HealthStatus> status = _probes.CheckAsync(probe);
        return status.IsCompletedSuccessfully
            ? WriteStatus(context, status.Result, healthyBody)
            : AwaitAndWrite(context, status, healthyBody);

        static async Task AwaitAndWrite(HttpContext context, ValueTask<HealthStatus> status, byte[] healthyBody) =>
            await WriteStatus(context, await status.ConfigureAwait(false), healthyBody).ConfigureAwait(false);
    }

    private static Task WriteStatus(HttpContext context, HealthStatus status, byte[] healthyBody) =>
        status == HealthStatus.Unhealthy
            ? Write(context, StatusCodes.Status503ServiceUnavailable, s_unhealthy)
            : Write(context, StatusCodes.Status200OK, healthyBody);

    private static Task Write(HttpContext context, int statusCode, byte[] body)
    {
        HttpResponse response = context.Response;
        response.StatusCode = statusCode;
        EndpointResponses.SetNoCache(response.Headers);
        response.ContentType = "text/plain; charset=utf-8";
        response.ContentLength = body.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            // Buffered write, flushed by the server when the request ends: no async state, no allocation.
            response.BodyWriter.Write(body);
        }

        return Task.CompletedTask;
    }
}
