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
    private readonly CachedHealthChecks _startupChecks;
    private readonly CachedHealthChecks _readyChecks;
    private readonly CachedHealthChecks _liveChecks;

    public ProbeStatus(LifecycleState state, IOptions<GracefulShutdownOptions> options,
        IOptions<HealthCheckServiceOptions> healthCheckOptions, IServiceProvider services, TimeProvider time)
    {
        _state = state;
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
        GracefulShutdownProbe.Readiness => _state.IsRunning,
        _ => true,
    };

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
