using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulShutdown.Internal;

/// <summary>
/// The lifecycle state machine: Starting → Running → Draining (traffic wait) → Stopping (server drain) → Stopped.
/// Every trigger (preStop, signals, StopApplication, <see cref="DrainAsync"/>) lands here, so they all share one drain and one wait.
/// </summary>
internal sealed class ShutdownCoordinator : IGracefulShutdown, IDisposable
{
    private readonly GracefulShutdownOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly GracefulShutdownMetrics _metrics;
    private readonly bool _runningInKubernetes;

    private readonly Lock _gate = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _drainStarted = new();
    private readonly CancellationTokenSource _drainDeadline;
    private readonly CancellationTokenSource _skipWait = new();
    private readonly CancellationTokenSource _trafficWaitEnded = new();

    private int _phase;
    private long _inFlight;
    private long _lastArrival;
    private long _requestsWhileDraining;
    private long _drainStartedAt;
    private int _signalCount;
    private bool _hostStarted;
    private bool _gatesCompleted;
    private bool _everReady;
    private int _gateCount;
    private DrainTrigger _trigger;
    private TrafficWaitOutcome? _skipOutcome;
    private Task<TrafficWaitResult>? _trafficWait;

    public ShutdownCoordinator(IOptions<GracefulShutdownOptions> options, TimeProvider time, ILogger<ShutdownCoordinator> logger,
        IMeterFactory meterFactory, KubernetesEnvironment kubernetes)
    {
        _options = options.Value;
        _time = time;
        _logger = logger;
        _runningInKubernetes = kubernetes.IsKubernetes;
        _drainDeadline = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
        _metrics = new GracefulShutdownMetrics(meterFactory, () => Volatile.Read(ref _inFlight), () => Volatile.Read(ref _phase));
    }

    public GracefulShutdownPhase Phase => (GracefulShutdownPhase)Volatile.Read(ref _phase);

    public Task WhenReady => _ready.Task;

    public CancellationToken DrainStarted => _drainStarted.Token;

    public CancellationToken DrainDeadline => _drainDeadline.Token;

    public CancellationToken TrafficWaitEnded => _trafficWaitEnded.Token;

    /// <summary>Gets a value indicating whether the library's own state allows readiness.</summary>
    public bool IsRunning => Volatile.Read(ref _phase) == (int)GracefulShutdownPhase.Running;

    /// <summary>Gets a value indicating whether the host has started and every start-up gate completed (it stays true afterwards).</summary>
    public bool HasStarted => Volatile.Read(ref _everReady);

    public bool IsDraining => Volatile.Read(ref _phase) >= (int)GracefulShutdownPhase.Draining;

    public long InFlight => Volatile.Read(ref _inFlight);

    public DrainTrigger Trigger => _trigger;

    public TimeSpan SinceDrainStarted => _time.GetElapsedTime(Volatile.Read(ref _drainStartedAt));

    /// <summary>Counts a request of the application (not a probe). Returns whether the drain has begun, so the caller can close the connection.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool OnRequestStarted()
    {
        Interlocked.Increment(ref _inFlight);
        if (Volatile.Read(ref _phase) < (int)GracefulShutdownPhase.Draining)
        {
            return false;
        }

        RecordArrivalWhileDraining();
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void OnRequestFinished() => Interlocked.Decrement(ref _inFlight);

    private void RecordArrivalWhileDraining()
    {
        Volatile.Write(ref _lastArrival, _time.GetTimestamp());
        Interlocked.Increment(ref _requestsWhileDraining);
        _metrics.RequestsWhileDraining.Add(1);
    }

    public void SetGateCount(int count) => _gateCount = count;

    public void MarkHostStarted()
    {
        lock (_gate)
        {
            _hostStarted = true;
        }

        TryBecomeRunning();
    }

    public void MarkGatesCompleted()
    {
        lock (_gate)
        {
            _gatesCompleted = true;
        }

        TryBecomeRunning();
    }

    private void TryBecomeRunning()
    {
        lock (_gate)
        {
            if (!_hostStarted || !_gatesCompleted || _phase != (int)GracefulShutdownPhase.Starting)
            {
                return;
            }

            _everReady = true;
            Volatile.Write(ref _phase, (int)GracefulShutdownPhase.Running);
        }

        _logger.Ready(_gateCount);
        _ready.TrySetResult();
    }

    /// <summary>Begins the drain if it has not begun. Returns whether this call began it.</summary>
    public bool BeginDrain(DrainTrigger trigger)
    {
        bool wasStarting;
        lock (_gate)
        {
            if (_phase >= (int)GracefulShutdownPhase.Draining)
            {
                return false;
            }

            wasStarting = _phase == (int)GracefulShutdownPhase.Starting;
            _trigger = trigger;
            long now = _time.GetTimestamp();
            Volatile.Write(ref _drainStartedAt, now);

            // The quiet period counts from the drain start at the earliest.
            Volatile.Write(ref _lastArrival, now);
            Volatile.Write(ref _phase, (int)GracefulShutdownPhase.Draining);
        }

        _logger.DrainStarted(trigger, InFlight);
        if (wasStarting)
        {
            _ready.TrySetCanceled();
        }

        // Callbacks (e.g. Eureka's out-of-service call) must not run on the caller: it may be a signal handler or a request.
        _ = _drainStarted.CancelAsync();
        return true;
    }

    /// <summary>Handles SIGTERM, SIGINT or SIGQUIT delivered while the host runs.</summary>
    public void OnSignal(PosixSignal signal)
    {
        if (Interlocked.Increment(ref _signalCount) > 1)
        {
            _logger.SecondSignal(SignalName(signal));
            SkipTrafficWait(TrafficWaitOutcome.SkippedBySecondSignal);
            return;
        }

        BeginDrain(signal switch
        {
            PosixSignal.SIGINT => DrainTrigger.SigInt,
            PosixSignal.SIGQUIT => DrainTrigger.SigQuit,
            _ => DrainTrigger.SigTerm,
        });

        if (signal == PosixSignal.SIGINT && _options.TrafficWait.SkipOnLocalInterrupt && !_runningInKubernetes)
        {
            SkipTrafficWait(TrafficWaitOutcome.SkippedOnLocalInterrupt);
        }
    }

    public void SkipTrafficWait(TrafficWaitOutcome reason)
    {
        lock (_gate)
        {
            _skipOutcome ??= reason;
        }

        _skipWait.Cancel();
    }

    public async Task DrainAsync(CancellationToken cancellationToken = default)
    {
        BeginDrain(DrainTrigger.DrainAsync);
        await WaitForTrafficToLeaveAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Returns the one traffic wait of this drain, starting it on first call. The drain must have begun.
    /// </summary>
    public Task<TrafficWaitResult> WaitForTrafficToLeaveAsync()
    {
        lock (_gate)
        {
            if (_phase < (int)GracefulShutdownPhase.Draining)
            {
                throw new InvalidOperationException("The traffic wait starts only after the drain has begun.");
            }

            if (!_everReady)
            {
                // Nothing routed traffic to an instance that was never ready.
                _skipOutcome ??= TrafficWaitOutcome.SkippedNeverReady;
                _skipWait.Cancel();
            }

            return _trafficWait ??= RunTrafficWaitAsync();
        }
    }

    private async Task<TrafficWaitResult> RunTrafficWaitAsync()
    {
        TrafficWaitOptions wait = _options.TrafficWait;
        long start = Volatile.Read(ref _drainStartedAt);
        TrafficWaitOutcome outcome;
        while (true)
        {
            if (_skipWait.IsCancellationRequested)
            {
                lock (_gate)
                {
                    outcome = _skipOutcome ?? TrafficWaitOutcome.SkippedBySecondSignal;
                }

                break;
            }

            long now = _time.GetTimestamp();
            TimeSpan elapsed = _time.GetElapsedTime(start, now);
            if (elapsed >= wait.Maximum)
            {
                outcome = TrafficWaitOutcome.MaximumReached;
                break;
            }

            TimeSpan quiet = _time.GetElapsedTime(Volatile.Read(ref _lastArrival), now);
            if (elapsed >= wait.Minimum && quiet >= wait.QuietPeriod)
            {
                outcome = TrafficWaitOutcome.Quiet;
                break;
            }

            // Sleep until the earliest moment the wait could end; a request arriving meanwhile only moves that moment later.
            TimeSpan next = Max(wait.Minimum - elapsed, wait.QuietPeriod - quiet);
            next = Min(Max(next, TimeSpan.FromMilliseconds(1)), wait.Maximum - elapsed);
            try
            {
                await Task.Delay(next, _time, _skipWait.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Skipped: the loop reports why.
            }
        }

        var result = new TrafficWaitResult(outcome, _time.GetElapsedTime(start), Interlocked.Read(ref _requestsWhileDraining));
        _logger.TrafficWaitEnded(result.Outcome, result.Elapsed.TotalSeconds, result.RequestsDuringWait);
        if (outcome == TrafficWaitOutcome.MaximumReached && result.RequestsDuringWait > 0)
        {
            _logger.TrafficWaitMaximumReached(_time.GetElapsedTime(Volatile.Read(ref _lastArrival)).TotalSeconds, wait.Maximum);
        }
        _metrics.TrafficWaitDuration.Record(result.Elapsed.TotalSeconds, new KeyValuePair<string, object?>("outcome", result.Outcome.ToString()));
        await _trafficWaitEnded.CancelAsync().ConfigureAwait(false);
        return result;
    }

    /// <summary>Enters the server drain and arms <see cref="DrainDeadline"/>.</summary>
    public void EnterStopping()
    {
        lock (_gate)
        {
            if (_phase >= (int)GracefulShutdownPhase.Stopping)
            {
                return;
            }

            Volatile.Write(ref _phase, (int)GracefulShutdownPhase.Stopping);
        }

        _drainDeadline.CancelAfter(_options.DrainTimeout - _options.DrainCancellationLead);
    }

    public void EnterStopped()
    {
        lock (_gate)
        {
            Volatile.Write(ref _phase, (int)GracefulShutdownPhase.Stopped);
        }
    }

    internal GracefulShutdownMetrics Metrics => _metrics;

    public void Dispose()
    {
        _drainStarted.Dispose();
        _drainDeadline.Dispose();
        _skipWait.Dispose();
        _trafficWaitEnded.Dispose();
    }

    internal static string SignalName(PosixSignal signal) => signal switch
    {
        PosixSignal.SIGTERM => "SIGTERM",
        PosixSignal.SIGINT => "SIGINT",
        PosixSignal.SIGQUIT => "SIGQUIT",
        _ => signal.ToString(),
    };

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
