using System.Runtime.InteropServices;
using GracefulShutdown.Diagnostics;
using GracefulShutdown.Hosting;
using GracefulShutdown.Lifecycle;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulShutdown.Signals;

/// <summary>
/// The signal policy while the host runs: the first SIGTERM, SIGINT or SIGQUIT begins the drain and stops the host after the
/// traffic wait (<see cref="ShutdownConductor.RequestStop"/>, so ApplicationStopping fires once balancers have stopped routing here); a second
/// one skips the rest of the traffic wait; Ctrl+C outside Kubernetes skips it at once. A signal received during start-up
/// (see <see cref="ProcessSignals"/>) stops the host as soon as it has started, without ever becoming ready.
/// </summary>
internal sealed class SignalHandling : IHostedLifecycleService, IDisposable
{
    private readonly ShutdownConductor _conductor;
    private readonly TrafficWait _trafficWait;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly bool _skipWaitOnInterrupt;
    private readonly ILogger _logger;
    private int _signalCount;
    private IDisposable? _registration;
    private CancellationTokenRegistration _stopWhenStarted;

    public SignalHandling(ShutdownConductor conductor, TrafficWait trafficWait, IHostApplicationLifetime lifetime,
        IOptions<GracefulShutdownOptions> options, KubernetesEnvironment kubernetes, ILogger<SignalHandling> logger)
    {
        _conductor = conductor;
        _trafficWait = trafficWait;
        _lifetime = lifetime;
        _skipWaitOnInterrupt = options.Value.Signals.SkipWaitOnLocalInterrupt && !kubernetes.IsKubernetes;
        _logger = logger;
    }

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        (_registration, PosixSignal? early) = ProcessSignals.Attach(OnSignal);
        if (early is PosixSignal signal)
        {
            _logger.SignalDuringStartup(Name(signal));
            _conductor.Begin(DrainTrigger.SignalDuringStartup);

            // Stopping a host that has not started would race its start: ask the conductor once it has.
            _stopWhenStarted = _lifetime.ApplicationStarted.Register(
                static c => ((ShutdownConductor)c!).RequestStop(DrainTrigger.SignalDuringStartup), _conductor);
        }

        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken)
    {
        // From now on signals take their default action.
        _registration?.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>Handles a signal delivered while the host runs.</summary>
    internal void OnSignal(PosixSignalContext context)
    {
        // Whatever IHostLifetime is in use, a signal stops the host once the traffic wait is over and long-lived connections
        // are closed: the library owns the sequence from here.
        context.Cancel = true;
        if (Interlocked.Increment(ref _signalCount) > 1)
        {
            _logger.SecondSignal(Name(context.Signal));
            _trafficWait.Skip(TrafficWaitOutcome.SkippedBySecondSignal);
            return;
        }

        DrainTrigger trigger = context.Signal switch
        {
            PosixSignal.SIGINT => DrainTrigger.SigInt,
            PosixSignal.SIGQUIT => DrainTrigger.SigQuit,
            _ => DrainTrigger.SigTerm,
        };
        _conductor.Begin(trigger);
        if (context.Signal == PosixSignal.SIGINT && _skipWaitOnInterrupt)
        {
            _trafficWait.Skip(TrafficWaitOutcome.SkippedOnLocalInterrupt);
        }

        _conductor.RequestStop(trigger);
    }

    internal static string Name(PosixSignal signal) => signal switch
    {
        PosixSignal.SIGTERM => "SIGTERM",
        PosixSignal.SIGINT => "SIGINT",
        PosixSignal.SIGQUIT => "SIGQUIT",
        _ => signal.ToString(),
    };

    public void Dispose()
    {
        _stopWhenStarted.Dispose();
        _registration?.Dispose();
    }
}
