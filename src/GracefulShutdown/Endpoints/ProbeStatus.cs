using GracefulShutdown.Lifecycle;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace GracefulShutdown.Endpoints;

/// <summary>
/// Decides each probe's answer: the lifecycle state first (an intentionally unready instance runs no check and logs no
/// error), then the cached tagged health checks.
/// </summary>
internal sealed class ProbeStatus : IGracefulShutdownProbes
{
    private readonly LifecycleState _state;
    private readonly TrafficWait _trafficWait;
    private readonly TimeProvider _time;
    private readonly TimeSpan _readinessFailureDelay;
    private readonly CachedHealthChecks _startupChecks;
    private readonly CachedHealthChecks _readyChecks;
    private readonly CachedHealthChecks _liveChecks;

    public ProbeStatus(LifecycleState state, TrafficWait trafficWait, IOptions<GracefulShutdownOptions> options,
        IOptions<HealthCheckServiceOptions> healthCheckOptions, IServiceProvider services, TimeProvider time)
    {
        _state = state;
        _trafficWait = trafficWait;
        _time = time;
        _readinessFailureDelay = options.Value.TrafficWait.ReadinessFailureDelay;
        var service = (HealthCheckService?)services.GetService(typeof(HealthCheckService));
        ICollection<HealthCheckRegistration> registrations = healthCheckOptions.Value.Registrations;
        TimeSpan cache = options.Value.Endpoints.CheckResultCacheDuration;
        _startupChecks = new CachedHealthChecks(service, registrations, GracefulShutdownTags.Startup, cache, time);
        _readyChecks = new CachedHealthChecks(service, registrations, GracefulShutdownTags.Ready, cache, time);
        _liveChecks = new CachedHealthChecks(service, registrations, GracefulShutdownTags.Live, cache, time);
    }

    /// <summary>Gets whether the library's own state lets the probe pass; the tagged checks come after.</summary>
    public bool StatePasses(GracefulShutdownProbe probe) => probe switch
    {
        GracefulShutdownProbe.Startup => _state.BecameReady,
        GracefulShutdownProbe.Readiness => _state.IsRunning || StillServingWhileDraining(),
        _ => true,
    };

    /// <summary>
    /// TrafficWait:ReadinessFailureDelay: a draining pod that keeps passing stays <c>serving</c> for kube-proxy's
    /// terminating-endpoint fallback and for balancers that health-check it, until the delay or the traffic wait is over.
    /// </summary>
    private bool StillServingWhileDraining() =>
        _readinessFailureDelay > TimeSpan.Zero
        && _state.Phase == GracefulShutdownPhase.Draining
        && _state.BecameReady
        && !_trafficWait.Ended.IsCancellationRequested
        && _time.GetElapsedTime(_state.DrainStartedAt) < _readinessFailureDelay;

    public ValueTask<HealthStatus> CheckAsync(GracefulShutdownProbe probe, CancellationToken cancellationToken = default)
    {
        if (!StatePasses(probe))
        {
            return new(HealthStatus.Unhealthy);
        }

        ValueTask<HealthStatus> status = Checks(probe).GetStatusAsync();
        return status.IsCompletedSuccessfully || !cancellationToken.CanBeCanceled
            ? status
            : new(status.AsTask().WaitAsync(cancellationToken));
    }

    private CachedHealthChecks Checks(GracefulShutdownProbe probe) => probe switch
    {
        GracefulShutdownProbe.Startup => _startupChecks,
        GracefulShutdownProbe.Readiness => _readyChecks,
        _ => _liveChecks,
    };
}
