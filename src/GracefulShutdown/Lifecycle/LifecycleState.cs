using GracefulShutdown.Diagnostics;

namespace GracefulShutdown.Lifecycle;

/// <summary>
/// The lifecycle state machine: Starting → Running → Draining (traffic wait) → Stopping (server drain) → Stopped.
/// Every trigger lands in <see cref="BeginDrain"/>, so they all share one drain. A phase never goes back.
/// </summary>
internal sealed class LifecycleState : IDisposable
{
    private readonly TimeProvider _time;
    private readonly ShutdownObserver _observer;
    private readonly Lock _sync = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _drainStarted = new();
    private readonly CancellationTokenSource _drainDeadline;

    private int _phase;
    private long _drainStartedAt;
    private bool _hostStarted;
    private bool _startupWorkDone;
    private bool _becameReady;
    private int _startupGateCount;
    private DrainTrigger _trigger;

    public LifecycleState(TimeProvider time, ShutdownObserver observer, GracefulShutdownMetrics metrics)
    {
        _time = time;
        _observer = observer;
        _drainDeadline = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
        metrics.ObservePhase(() => Volatile.Read(ref _phase));
    }

    public GracefulShutdownPhase Phase => (GracefulShutdownPhase)Volatile.Read(ref _phase);

    public Task WhenReady => _ready.Task;

    public CancellationToken DrainStarted => _drainStarted.Token;

    public CancellationToken DrainDeadline => _drainDeadline.Token;

    /// <summary>Gets a value indicating whether the application is running and not draining: readiness may pass.</summary>
    public bool IsRunning => Volatile.Read(ref _phase) == (int)GracefulShutdownPhase.Running;

    /// <summary>Gets a value indicating whether the application was ready at some point (it stays true while draining).</summary>
    public bool BecameReady => Volatile.Read(ref _becameReady);

    public bool IsDraining => Volatile.Read(ref _phase) >= (int)GracefulShutdownPhase.Draining;

    public DrainTrigger Trigger => _trigger;

    /// <summary>Gets the timestamp (<see cref="TimeProvider.GetTimestamp"/>) at which the drain began.</summary>
    public long DrainStartedAt => Volatile.Read(ref _drainStartedAt);

    public TimeSpan SinceDrainStarted => _time.GetElapsedTime(DrainStartedAt);

    public void MarkHostStarted()
    {
        lock (_sync)
        {
            _hostStarted = true;
        }

        TryBecomeRunning();
    }

    /// <summary>Every start-up gate has completed.</summary>
    public void MarkStartupWorkDone(int gateCount)
    {
        lock (_sync)
        {
            _startupWorkDone = true;
            _startupGateCount = gateCount;
        }

        TryBecomeRunning();
    }

    private void TryBecomeRunning()
    {
        lock (_sync)
        {
            if (!_hostStarted || !_startupWorkDone || _phase != (int)GracefulShutdownPhase.Starting)
            {
                return;
            }

            _becameReady = true;
            Volatile.Write(ref _phase, (int)GracefulShutdownPhase.Running);
        }

        _observer.Ready(_startupGateCount);
        _ready.TrySetResult();
    }

    /// <summary>Begins the drain if it has not begun. Returns whether this call began it.</summary>
    public bool BeginDrain(DrainTrigger trigger, long inFlight)
    {
        bool wasStarting;
        lock (_sync)
        {
            if (_phase >= (int)GracefulShutdownPhase.Draining)
            {
                return false;
            }

            wasStarting = _phase == (int)GracefulShutdownPhase.Starting;
            _trigger = trigger;
            Volatile.Write(ref _drainStartedAt, _time.GetTimestamp());
            Volatile.Write(ref _phase, (int)GracefulShutdownPhase.Draining);
        }

        _observer.DrainStarted(trigger, inFlight, Volatile.Read(ref _drainStartedAt));
        if (wasStarting)
        {
            _ready.TrySetCanceled();
        }

        // Callbacks (e.g. Eureka's out-of-service call) must not run on the caller: it may be a signal handler or a request.
        _ = _drainStarted.CancelAsync();
        return true;
    }

    /// <summary>Enters the server drain and arms <see cref="DrainDeadline"/> to fire <paramref name="deadline"/> from now.</summary>
    public void EnterStopping(TimeSpan deadline)
    {
        lock (_sync)
        {
            if (_phase >= (int)GracefulShutdownPhase.Stopping)
            {
                return;
            }

            Volatile.Write(ref _phase, (int)GracefulShutdownPhase.Stopping);
        }

        _drainDeadline.CancelAfter(deadline);
    }

    public void EnterStopped()
    {
        lock (_sync)
        {
            Volatile.Write(ref _phase, (int)GracefulShutdownPhase.Stopped);
        }
    }

    public void Dispose()
    {
        _drainStarted.Dispose();
        _drainDeadline.Dispose();
    }
}
