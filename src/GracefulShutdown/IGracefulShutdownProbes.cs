using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace GracefulShutdown;

/// <summary>
/// What each probe would answer now: the library's lifecycle state first, then the health checks tagged for the probe.
/// The HTTP endpoints answer from it; add-ons that serve probes over other protocols (gRPC health) use it too.
/// </summary>
/// <remarks>
/// Resolve it from dependency injection after calling <c>AddGracefulShutdown()</c>. It is a singleton and cheap to call:
/// tagged checks run at most once per <c>GracefulShutdown:Endpoints:CheckResultCacheDuration</c>.
/// </remarks>
public interface IGracefulShutdownProbes
{
    /// <summary>Evaluates a probe.</summary>
    /// <param name="probe">The probe.</param>
    /// <param name="cancellationToken">Stops waiting for the tagged health checks; they keep running for the next caller.</param>
    /// <returns><see cref="HealthStatus.Unhealthy"/> where the HTTP probe would answer 503, otherwise the checks' status.</returns>
    ValueTask<HealthStatus> CheckAsync(GracefulShutdownProbe probe, CancellationToken cancellationToken = default);
}
