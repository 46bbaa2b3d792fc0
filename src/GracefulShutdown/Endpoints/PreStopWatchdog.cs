using GracefulShutdown.Diagnostics;
using GracefulShutdown.Lifecycle;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulShutdown.Endpoints;

/// <summary>
/// Stops the application when a drain begun by the preStop endpoint is not followed by SIGTERM within
/// <c>TerminationGracePeriod + PreStop:SigTermMargin</c>. kubelet would have killed the pod by then, so the call was not part
/// of a termination (a caller that got through, a script); without this the replica would stay out of rotation with
/// liveness 200, and nothing would ever restart it.
/// </summary>
/// <remarks>Outside a host (no <see cref="IHostApplicationLifetime"/>) there is nothing to stop, and it does nothing.</remarks>
internal sealed class PreStopWatchdog(
    IServiceProvider services,
    ShutdownConductor conductor,
    IOptions<GracefulShutdownOptions> options,
    TimeProvider time,
    ILogger<PreStopWatchdog> logger) : IDisposable
{
    private readonly IHostApplicationLifetime? _lifetime = services.GetService<IHostApplicationLifetime>();
    private readonly Lock _sync = new();
    private ITimer? _timer;
    private CancellationTokenRegistration _onStopping;
    private long _armedAt;

    /// <summary>Starts the countdown (once); the host stopping for any reason (SIGTERM, StopApplication) disarms it.</summary>
    public void Arm()
    {
        if (_lifetime is not IHostApplicationLifetime lifetime)
        {
            return;
        }

        lock (_sync)
        {
            if (_timer is not null || lifetime.ApplicationStopping.IsCancellationRequested)
            {
                return;
            }

            // Validation keeps both far below the timer's limit; the clamp keeps a drain from ever being left half begun.
            GracefulShutdownOptions o = options.Value;
            TimeSpan due = ShutdownBudget.Add(o.TerminationGracePeriod, o.PreStop.SigTermMargin);
            _armedAt = time.GetTimestamp();
            _timer = time.CreateTimer(static state => ((PreStopWatchdog)state!).Expire(), this,
                due < ShutdownBudget.TimerLimit ? due : ShutdownBudget.TimerLimit, Timeout.InfiniteTimeSpan);
        }

        _onStopping = lifetime.ApplicationStopping.Register(static state => ((PreStopWatchdog)state!).Disarm(), this);
    }

    private void Expire()
    {
        IHostApplicationLifetime lifetime = _lifetime!;
        if (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            return;
        }

        GracefulShutdownOptions o = options.Value;
        logger.PreStopNotFollowedBySigTerm(time.GetElapsedTime(Volatile.Read(ref _armedAt)).TotalSeconds, o.TerminationGracePeriod,
            o.PreStop.SigTermMargin);
        conductor.RequestStop(DrainTrigger.PreStop);
    }

    private void Disarm()
    {
        lock (_sync)
        {
            _timer?.Dispose();
        }
    }

    public void Dispose()
    {
        _onStopping.Dispose();
        Disarm();
    }
}
