using GracefulShutdown;
using GracefulShutdown.Endpoints;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// Maps the probe and preStop endpoints where the app wants them.
/// </summary>
public static class GracefulShutdownEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the startup, readiness, liveness and preStop endpoints as routed endpoints, and turns their automatic mapping off.
    /// </summary>
    /// <param name="endpoints">The endpoint route builder.</param>
    /// <returns>A convention builder for all four endpoints (for example to chain <c>RequireHost</c>).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="endpoints"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException"><c>AddGracefulShutdown()</c> was not called.</exception>
    /// <remarks>
    /// Routed endpoints run after everything the app puts before routing (authentication, HTTPS redirection, rate limiting):
    /// kubelet sends no credentials, so exclude these endpoints from such policies. With
    /// <c>GracefulShutdown:ManagementPort</c> set, each endpoint answers 404 on every other local port (the connection's port,
    /// not the client-controlled Host header).
    /// </remarks>
    public static IEndpointConventionBuilder MapGracefulShutdownEndpoints(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        LifecycleEndpoints lifecycle = endpoints.ServiceProvider.GetService<LifecycleEndpoints>()
            ?? throw new InvalidOperationException(
                "Unable to find the required services. Add them by calling 'IServiceCollection.AddGracefulShutdown()' " +
                "in the application's service configuration.");

        GracefulShutdownEndpointOptions paths = lifecycle.Options.Endpoints;
        var composite = new CompositeEndpointConventionBuilder(
        [
            Map(paths.StartupPath, EndpointResponses.GetAndHead, lifecycle.Probes.Startup, "Startup probe"),
            Map(paths.ReadinessPath, EndpointResponses.GetAndHead, lifecycle.Probes.Readiness, "Readiness probe"),
            Map(paths.LivenessPath, EndpointResponses.GetAndHead, lifecycle.Probes.Liveness, "Liveness probe"),

            // GET only: HEAD is a safe method (monitors and link checkers send it) and must not begin a drain.
            Map(paths.PreStopPath, [HttpMethods.Get], lifecycle.PreStop, "preStop hook"),
        ]);
        composite.ExcludeFromDescription();

        // The marker tells the automatic middleware to leave these paths to routing.
        composite.WithMetadata(MappedGracefulShutdownEndpoint.Instance);
        return composite;

        IEndpointConventionBuilder Map(string path, string[] methods, RequestDelegate handler, string name) =>
            endpoints.MapMethods(path, methods, lifecycle.OnManagementPort(handler)).WithDisplayName(name);
    }

    private sealed class CompositeEndpointConventionBuilder(IEndpointConventionBuilder[] builders) : IEndpointConventionBuilder
    {
        public void Add(Action<EndpointBuilder> convention)
        {
            foreach (IEndpointConventionBuilder builder in builders)
            {
                builder.Add(convention);
            }
        }

        public void Finally(Action<EndpointBuilder> finallyConvention)
        {
            foreach (IEndpointConventionBuilder builder in builders)
            {
                builder.Finally(finallyConvention);
            }
        }
    }
}
