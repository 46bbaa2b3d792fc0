using System.Globalization;
using GracefulShutdown.Diagnostics;
using Microsoft.Extensions.Logging;

namespace GracefulShutdown.Lifecycle;

/// <summary>
/// Holds what a platform add-on told the library about this termination (<see cref="ITerminationFacts"/>). The phases read it
/// when they start (the budget source, the traffic wait, the readiness rule) and <see cref="Changed"/> tells the ones running
/// that something they depend on moved: a deadline that arrives just after the drain began still reaches every phase after it.
/// </summary>
internal sealed class PlatformTermination : ITerminationFacts
{
    private readonly TimeProvider _time;
    private readonly ShutdownReport _report;
    private readonly ILogger _logger;
    private readonly Lock _sync = new();
    private readonly HashSet<Hold> _holds = [];
    private DateTimeOffset? _killAt;
    private string? _deadlineSource;
    private string? _reason;
    private string? _skipWhy;
    private long _releasedAt;

    public PlatformTermination(TimeProvider time, ShutdownReport report, ILogger<PlatformTermination> logger)
    {
        _time = time;
        _report = report;
        _logger = logger;
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

    /// <summary>Gets the reason as text ("EvictionByEvictionAPI: Eviction API: evicting"), or <see langword="null"/>.</summary>
    public string? Reason => Volatile.Read(ref _reason);

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

        double inSeconds = (killAt - _time.GetUtcNow()).TotalSeconds;
        _logger.PlatformDeadline(source, killAt, inSeconds);
        _report.Add("platform", string.Create(CultureInfo.InvariantCulture, $"deadline from {source}: {killAt:O} ({inSeconds:0.000} s from now)"));
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

        _logger.PlatformReason(text);
        _report.Add("platform", "reason: " + text);
    }

    public void SkipTrafficWait(string why)
    {
        ArgumentException.ThrowIfNullOrEmpty(why);
        if (Interlocked.CompareExchange(ref _skipWhy, why, null) is not null)
        {
            return;
        }

        _logger.PlatformSkipsTrafficWait(why);
        _report.Add("platform", "traffic wait skipped: " + why);
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

        _logger.ReadinessHeld(why);
        _report.Add("platform", "readiness held: " + why);
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

        _logger.ReadinessReleased(hold.Why);
        _report.Add("platform", "readiness hold released: " + hold.Why);
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
