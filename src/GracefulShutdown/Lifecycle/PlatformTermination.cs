using GracefulShutdown.Diagnostics;

namespace GracefulShutdown.Lifecycle;

/// <summary>
/// Holds what a platform add-on told the library about this termination (<see cref="ITerminationFacts"/>). The phases read it
/// when they start (the budget source, the traffic wait, the readiness rule) and <see cref="Changed"/> tells the ones running
/// that something they depend on moved: a deadline that arrives just after the drain began still reaches every phase after it.
/// </summary>
internal sealed class PlatformTermination : ITerminationFacts
{
    private readonly TimeProvider _time;
    private readonly ShutdownObserver _observer;
    private readonly Lock _sync = new();
    private readonly HashSet<Hold> _holds = [];
    private DateTimeOffset? _killAt;
    private string? _deadlineSource;
    private string? _reason;
    private string? _skipWhy;
    private long _releasedAt;

    public PlatformTermination(TimeProvider time, ShutdownObserver observer)
    {
        _time = time;
        _observer = observer;
    }

    /// <summary>Raised, off any lock, when the deadline shortened, the wait was skipped or the last readiness hold was released.</summary>
    public event Action? Changed;

    /// <summary>Gets the earliest deadline reported and its source, if any.</summary>
    public (DateTimeOffset KillAt, string Source)? Deadline
    {
        get
        {
            lock (_sync)
            {
                return _killAt is DateTimeOffset at ? (at, _deadlineSource!) : null;
            }
        }
    }

    /// <summary>Gets why the traffic wait must be skipped, or <see langword="null"/>.</summary>
    public string? SkipWhy => Volatile.Read(ref _skipWhy);

    /// <summary>Gets whether readiness is held: some hold is not released.</summary>
    public bool ReadinessHeld
    {
        get
        {
            lock (_sync)
            {
                return _holds.Count > 0;
            }
        }
    }

    /// <summary>Gets when the last hold was released (a <see cref="TimeProvider"/> timestamp), or 0.</summary>
    public long ReleasedAt
    {
        get
        {
            lock (_sync)
            {
                return _releasedAt;
            }
        }
    }

    public void ReportDeadline(DateTimeOffset killAt, string source)
    {
        ArgumentException.ThrowIfNullOrEmpty(source);
        lock (_sync)
        {
            if (_killAt is DateTimeOffset known && known <= killAt)
            {
                return;
            }

            _killAt = killAt;
            _deadlineSource = source;
        }

        _observer.PlatformDeadline(source, killAt, (killAt - _time.GetUtcNow()).TotalSeconds);
        Changed?.Invoke();
    }

    public void ReportReason(string reason, string? message)
    {
        ArgumentException.ThrowIfNullOrEmpty(reason);
        string text = string.IsNullOrEmpty(message) ? reason : reason + ": " + message;
        if (Interlocked.CompareExchange(ref _reason, text, null) is not null)
        {
            return;
        }

        _observer.PlatformReason(text);
    }

    public void SkipTrafficWait(string why)
    {
        ArgumentException.ThrowIfNullOrEmpty(why);
        if (Interlocked.CompareExchange(ref _skipWhy, why, null) is not null)
        {
            return;
        }

        _observer.PlatformSkipsTrafficWait(why);
        Changed?.Invoke();
    }

    public IDisposable HoldReadiness(string why)
    {
        ArgumentException.ThrowIfNullOrEmpty(why);
        var hold = new Hold(this, why);
        lock (_sync)
        {
            _holds.Add(hold);
        }

        _observer.ReadinessHeld(why);
        return hold;
    }

    private void Release(Hold hold)
    {
        bool last;
        lock (_sync)
        {
            if (!_holds.Remove(hold))
            {
                return;
            }

            last = _holds.Count == 0;
            if (last)
            {
                _releasedAt = _time.GetTimestamp();
            }
        }

        _observer.ReadinessReleased(hold.Why);
        if (last)
        {
            Changed?.Invoke();
        }
    }

    private sealed class Hold(PlatformTermination owner, string why) : IDisposable
    {
        public string Why { get; } = why;

        public void Dispose() => owner.Release(this);
    }
}
