using GracefulShutdown;
using GracefulShutdown.Grpc;
using Grpc.AspNetCore.HealthChecks;
using Grpc.AspNetCore.Server;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using GracefulShutdown.Grpc.Probes;
using GracefulShutdown.Grpc.Hosting;
using GracefulShutdown.Grpc.Streams;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Adds gRPC to the graceful shutdown lifecycle.
/// </summary>
public static class GrpcGracefulShutdownBuilderExtensions
{
    /// <summary>
    /// Makes the standard gRPC health service (<c>grpc.health.v1.Health</c>, served by <c>app.MapGrpcHealthChecksService()</c>)
    /// answer for the lifecycle, and ends server-streaming and duplex calls with UNAVAILABLE when the traffic wait is over.
    /// Options bind from <c>GracefulShutdown:Grpc</c>; see <see cref="GrpcShutdownOptions"/>.
    /// </summary>
    /// <param name="builder">The builder returned by <c>AddGracefulShutdown()</c>.</param>
    /// <returns>The value of <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    /// <remarks>
    /// <para>This operation is idempotent. It calls <c>AddGrpc()</c> and <c>AddGrpcHealthChecks()</c>.</para>
    /// <para>
    /// The names <c>""</c> and <see cref="GrpcShutdownOptions.ReadinessService"/> answer like <c>/health/ready</c>, from the same
    /// rule (<see cref="IGracefulShutdownProbes"/>): they turn NOT_SERVING when the drain begins, or, with
    /// <c>GracefulShutdown:Endpoints:ReadinessFailureDelay</c> set, when that delay or the traffic wait is over, whichever comes
    /// first; Watch calls get it pushed at that moment (<see cref="IGracefulShutdownProbes.ReadinessLost"/>), not at the next
    /// <see cref="GrpcShutdownOptions.RefreshInterval"/>. <see cref="GrpcShutdownOptions.LivenessService"/>
    /// and <see cref="GrpcShutdownOptions.StartupService"/> answer like <c>/health/live</c> and <c>/health/startup</c>. Health checks
    /// tagged <c>ready</c>, <c>live</c> or <c>startup</c> feed them as they feed the HTTP probes. Any other service name mapped with
    /// <c>AddGrpcHealthChecks(o =&gt; o.Services.Map(…))</c> keeps working, answered from the health-check publisher
    /// (<c>GrpcHealthChecksOptions.UseHealthChecksCache</c> is turned on so that Check and Watch answer from the same state).
    /// </para>
    /// <para>
    /// Map the service with <c>app.MapGrpcHealthChecksService()</c>; a warning (event 403) is logged at start-up when it is not mapped.
    /// </para>
    /// </remarks>
    public static IGracefulShutdownBuilder AddGrpc(this IGracefulShutdownBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        IServiceCollection services = builder.Services;
        if (services.Any(static d => d.ServiceType == typeof(GrpcMarker)))
        {
            return builder;
        }

        services.AddSingleton<GrpcMarker>();
        services.AddOptions<GrpcShutdownOptions>().BindStrictly(GrpcShutdownOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GrpcShutdownOptions>, GrpcShutdownOptionsValidator>());

        services.AddGrpc();
        services.AddGrpcHealthChecks();

        // Health calls are probes, not traffic: kubelet's grpc: probes and clients' health checks must not extend the wait.
        services.PostConfigure<GracefulShutdownOptions>(static options =>
        {
            const string HealthPrefix = "/grpc.health.v1.Health/";
            if (!options.TrafficWait.IgnoredPaths.Contains(HealthPrefix))
            {
                options.TrafficWait.IgnoredPaths = [.. options.TrafficWait.IgnoredPaths, HealthPrefix];
            }
        });
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<GrpcHealthChecksOptions>, LifecycleHealthServiceNames>());
        services.TryAddSingleton<StreamDrainInterceptor>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<GrpcServiceOptions>, AddStreamDrainInterceptor>());

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<GrpcHealthStatusUpdater>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, GrpcHealthStatusUpdater>(static sp => sp.GetRequiredService<GrpcHealthStatusUpdater>()));
        return builder;
    }
}
