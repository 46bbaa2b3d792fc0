using Grpc.AspNetCore.HealthChecks;
using Microsoft.Extensions.Options;

namespace GracefulShutdown.Grpc.Probes;

/// <summary>
/// Hands the lifecycle's service names to <see cref="GrpcHealthStatusUpdater"/>: the health-check publisher must not overwrite
/// them every period, and Check must answer from the same state Watch pushes.
/// </summary>
internal sealed class LifecycleHealthServiceNames(IOptions<GrpcShutdownOptions> options) : IPostConfigureOptions<GrpcHealthChecksOptions>
{
    public void PostConfigure(string? name, GrpcHealthChecksOptions grpcOptions)
    {
        GrpcShutdownOptions names = options.Value;
        grpcOptions.Services.Remove(string.Empty);
        grpcOptions.Services.Remove(names.ReadinessService);
        grpcOptions.Services.Remove(names.LivenessService);
        grpcOptions.Services.Remove(names.StartupService);
        grpcOptions.UseHealthChecksCache = true;
        if (names.EndStreamsWhenTrafficWaitEnds)
        {
            // Watch calls then end with UNAVAILABLE when the traffic wait is over (StreamDrainInterceptor), not with OK at
            // whatever moment the host signals ApplicationStopping.
            grpcOptions.SuppressCompletionOnShutdown = true;
        }
    }
}
