using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace GracefulShutdown.Endpoints;

/// <summary>
/// Routes a request to one of the four library endpoints by path (case-insensitive), and confines them to the management
/// port when one is set. The connection's local port decides, never the Host header, which the caller controls.
/// </summary>
internal sealed class LifecycleEndpoints(ProbeEndpoints probes, PreStopEndpoint preStop, IOptions<GracefulShutdownOptions> options)
{
    private readonly GracefulShutdownOptions _options = options.Value;

    public GracefulShutdownOptions Options => _options;

    public ProbeEndpoints Probes => probes;

    public RequestDelegate PreStop => preStop.Handler;

    /// <summary>Returns the handler for a request to one of the endpoints, or <see langword="null"/>.</summary>
    public RequestDelegate? Match(HttpContext context)
    {
        if (_options.ManagementPort is int port && context.Connection.LocalPort != port)
        {
            return null;
        }

        string? path = context.Request.Path.Value;
        if (path is null)
        {
            return null;
        }

        GracefulShutdownEndpointOptions endpoints = _options.Endpoints;
        if (path.Equals(endpoints.ReadinessPath, StringComparison.OrdinalIgnoreCase))
        {
            return probes.Readiness;
        }

        if (path.Equals(endpoints.LivenessPath, StringComparison.OrdinalIgnoreCase))
        {
            return probes.Liveness;
        }

        if (path.Equals(endpoints.StartupPath, StringComparison.OrdinalIgnoreCase))
        {
            return probes.Startup;
        }

        return path.Equals(endpoints.PreStopPath, StringComparison.OrdinalIgnoreCase) ? preStop.Handler : null;
    }

    /// <summary>Wraps a handler for routed mapping: with a management port, other local ports answer 404.</summary>
    public RequestDelegate OnManagementPort(RequestDelegate handler)
    {
        if (_options.ManagementPort is not int port)
        {
            return handler;
        }

        return context =>
        {
            if (context.Connection.LocalPort == port)
            {
                return handler(context);
            }

            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        };
    }
}

/// <summary>
/// Endpoint metadata on the routes <c>MapGracefulShutdownEndpoints()</c> adds. The middleware looks for it among the app's
/// endpoints, so whether the app mapped them is read from the routes themselves, whatever the order of the calls.
/// </summary>
internal sealed class MappedGracefulShutdownEndpoint
{
    public static readonly MappedGracefulShutdownEndpoint Instance = new();
}
