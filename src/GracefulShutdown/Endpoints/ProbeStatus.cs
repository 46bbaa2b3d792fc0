using GracefulShutdown.Lifecycle;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace GracefulShutdown.Endpoints;

/// <summary>
/// Decides each probe's answer: the lifecycle state first (an intentionally unready instance runs no check and logs no
/// error), then the cached tagged health checks. The one readiness rule: every health surface (HTTP probes, gRPC health)
/// answers from here, and <see cref="ReadinessLost"/> tells the ones that push when the rule turns readiness off for good.
/// </summary>
internal sealed class ProbeStatus : IGracefulShutdownProbes, IDisposable
{
    private readonly LifecycleState _state;
    private readonly TrafficWait _trafficWait;
    private readonly TimeProvider _time;
    private readonly TimeSpan _readinessFailureDelay;
    private readonly PlatformTermination _platform;
    private readonly CachedHealthChecks _startupChecks;
    private readonly CachedHealthChecks _readyChecks;
    private readonly CachedHealthChecks _liveChecks;
    private readonly Lock _sync = new();
    private readonly CancellationTokenSource _readinessLost = new();
    private readonly CancellationTokenRegistration _onDrainStarted;
    private readonly CancellationTokenRegistration _onTrafficWaitEnded;
    private ITimer? _delayTimer;
    private bool _disposed;

    public ProbeStatus(LifecycleState state, TrafficWait trafficWait, IOptions<GracefulShutdownOptions> options,
        IOptions<HealthCheckServiceOptions> healthCheckOptions, IServiceProvider services, TimeProvider time, PlatformTermination platform)
    {
        _platform = platform;
        _state = state;
        _trafficWait = trafficWait;
        _time = time;

        // The one place the readiness failure delay is read.
        _readinessFailureDelay = options.Value.Endpoints.ReadinessFailureDelay;
        var service = (HealthCheckService?)services.GetService(typeof(HealthCheckService));
        ICollection<HealthCheckRegistration> registrations = healthCheckOptions.Value.Registrations;
        TimeSpan cache = options.Value.Endpoints.CheckResultCacheDuration;
        _startupChecks = new CachedHealthChecks(service, registrations, GracefulShutdownTags.Startup, cache, time);
        _readyChecks = new CachedHealthChecks(service, registrations, GracefulShutdownTags.Ready, cache, time);
        _liveChecks = new CachedHealthChecks(service, registrations, GracefulShutdownTags.Live, cache, time);
        ReadinessLost = _readinessLost.Token;

        // A released readiness hold is looked at like the drain's start: the delay may still run, or readiness fails now.
        _platform.Changed += OnPlatformChanged;

        // Last: a token already canceled runs the callback here.
        _onDrainStarted = state.DrainStarted.Register(static probes => ((ProbeStatus)probes!).OnDrainStarted(), this);
        _onTrafficWaitEnded = trafficWait.Ended.Register(static probes => ((ProbeStatus)probes!).LoseReadiness(), this);
    }

    public CancellationToken ReadinessLost { get; }

    /// <summary>Gets whether the library's own state lets the probe pass; the tagged checks come after.</summary>
    public bool StatePasses(GracefulShutdownProbe probe) => probe switch
    {
        GracefulShutdownProbe.Startup => _state.BecameReady,
        GracefulShutdownProbe.Readiness => _state.IsRunning || StillServingWhileDraining(),
        _ => true,
    };

    /// <summary>
    /// Endpoints:ReadinessFailureDelay: a draining pod that keeps passing stays <c>serving</c> for kube-proxy's
    /// terminating-endpoint fallback and for balancers that health-check it, until the delay or the traffic wait is over.
    /// A platform readiness hold (<see cref="ITerminationFacts.HoldReadiness"/>: the last serving endpoint) does the same
    /// until it is released.
    /// </summary>
    private bool StillServingWhileDraining() =>
        _state.Phase == GracefulShutdownPhase.Draining
        && _state.BecameReady
        && !_trafficWait.Ended.IsCancellationRequested
        && !_readinessLost.IsCancellationRequested
        && (_platform.ReadinessHeld
            || (_readinessFailureDelay > TimeSpan.Zero && _time.GetElapsedTime(_state.DrainStartedAt) < _readinessFailureDelay));

    private void OnPlatformChanged()
    {
        if (_state.IsDraining && !_platform.ReadinessHeld)
        {
            OnDrainStarted();
        }
    }

    /// <summary>
    /// Arms <see cref="ReadinessLost"/> for the moment <see cref="StillServingWhileDraining"/> turns false by itself; the end of
    /// the traffic wait, if it comes first, cancels it too.
    /// </summary>
    private void OnDrainStarted()
    {
        if (StillServingWhileDraining() && _platform.ReadinessHeld)
        {
            // Held: the release (OnPlatformChanged) or the end of the traffic wait decides.
            return;
        }

        TimeSpan remaining = StillServingWhileDraining()
            ? _readinessFailureDelay - _time.GetElapsedTime(_state.DrainStartedAt)
            : TimeSpan.Zero;
        if (remaining > TimeSpan.Zero)
        {
            lock (_sync)
            {
                if (_disposed || _readinessLost.IsCancellationRequested)
                {
                    return;
                }

                _delayTimer?.Dispose();
                _delayTimer = _time.CreateTimer(static probes => ((ProbeStatus)probes!).OnDelayElapsed(), this, remaining, Timeout.InfiniteTimeSpan);
            }

            // The rule decides, not the timer: time may have reached the delay while the timer was being armed.
            if (StillServingWhileDraining())
            {
                return;
            }
        }

        LoseReadiness();
    }

    /// <summary>The failure delay is over: readiness fails, unless the platform holds it now (its release decides then).</summary>
    private void OnDelayElapsed()
    {
        if (_platform.ReadinessHeld && StillServingWhileDraining())
        {
            return;
        }

        LoseReadiness();
    }

    private void LoseReadiness()
    {
        lock (_sync)
        {
            if (_disposed || _readinessLost.IsCancellationRequested)
            {
                return;
            }

            _delayTimer?.Dispose();
            _delayTimer = null;

            // Callbacks (the gRPC health push) must not run on the timer, a signal handler or a request.
            _ = _readinessLost.CancelAsync();
        }
    }

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

    public void Dispose()
    {
        lock (_sync)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _delayTimer?.Dispose();
        }

        _platform.Changed -= OnPlatformChanged;
        _onDrainStarted.Dispose();
        _onTrafficWaitEnded.Dispose();
        _readinessLost.Dispose();
    }
}
