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

    /// <summary>
    /// Gets a token that is canceled when the lifecycle makes readiness fail for good: when the drain begins, or, with
    /// <c>GracefulShutdown:Endpoints:ReadinessFailureDelay</c> set, when that delay has passed or the traffic wait is over,
    /// whichever comes first. From then on <see cref="CheckAsync"/> answers <see cref="HealthStatus.Unhealthy"/> for
    /// <see cref="GracefulShutdownProbe.Readiness"/>.
    /// </summary>
    /// <remarks>
    /// Add-ons that push readiness rather than being polled (the gRPC health service's <c>Watch</c>) register on it to push the
    /// change at once without repeating the rule. Its callbacks run on a thread-pool thread, never on the signal handler or the
    /// request that began the drain. Health checks tagged <c>ready</c> do not cancel it: their answer can change back, so call
    /// <see cref="CheckAsync"/> for them.
    /// </remarks>
    CancellationToken ReadinessLost { get; }
}
