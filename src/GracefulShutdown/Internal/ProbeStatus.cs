using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace GracefulShutdown.Internal;

/// <summary>
/// Decides each probe's answer: the coordinator's state first (an intentionally unready instance runs no check and logs no
/// error), then the cached tagged health checks.
/// </summary>
internal sealed class ProbeStatus : IGracefulShutdownProbes
{
    private readonly ShutdownCoordinator _coordinator;
    private readonly CachedHealthChecks _startupChecks;
    private readonly CachedHealthChecks _readyChecks;
    private readonly CachedHealthChecks _liveChecks;

    public ProbeStatus(ShutdownCoordinator coordinator, IOptions<GracefulShutdownOptions> options,
        IOptions<HealthCheckServiceOptions> healthCheckOptions, IServiceProvider services, TimeProvider time)
    {
        _coordinator = coordinator;
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
        GracefulShutdownProbe.Startup => _coordinator.HasStarted,
        GracefulShutdownProbe.Readiness => _coordinator.IsRunning,
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
