using System.Net;
using Microsoft.Extensions.Options;

namespace GracefulShutdown.Checkers;

/// <summary>
/// Every health checker that probed this replica, keyed by User-Agent and source address (a balancer fleet probes from several
/// addresses: each source is counted on its own). Before the drain it learns each checker's period; after the drain began it
/// counts the consecutive non-2xx answers each one got and notes when it stopped probing. The traffic wait reads it
/// (docs/health-checkers.md).
/// </summary>
/// <remarks>
/// Only health-check requests touch the ledger, never application requests. A new checker allocates one entry; the table holds
/// <see cref="Capacity"/> of them, replaces ones silent for the whole window before the drain, and sums the rest into one
/// "others" checker that lets go only by falling silent: a flood of made-up checkers can hold the wait longer, never shorten it.
/// </remarks>
internal sealed class HealthCheckerLedger
{
    public const int Capacity = 64;

    /// <summary>User-Agents are kept to this many characters.</summary>
    public const int MaxUserAgentLength = 200;

    private const double PeriodSmoothing = 0.25;

    private readonly TimeProvider _time;
    private readonly HealthCheckerOptions _options;
    private readonly TimeSpan _window;
    private readonly Lock _sync = new();
    private readonly List<Checker> _checkers = [];
    private Checker? _others;
    private long _drainStartedAt;
    private Action? _changed;

    public HealthCheckerLedger(IOptions<GracefulShutdownOptions> options, TimeProvider time)
    {
        _time = time;
        _options = options.Value.HealthCheckers;
        _window = options.Value.TrafficWait.RateWindow;
    }

    /// <summary>Gets whether health checks are read at all (<c>HealthCheckers:Enabled</c>).</summary>
    public bool Enabled => _options.Enabled;

    /// <summary>Records one probe: who sent it, when it arrived, and whether it was answered 2xx (and, for gRPC, SERVING).</summary>
    public void Record(string userAgent, IPAddress? source, long timestamp, bool passed)
    {
        Action? changed;
        lock (_sync)
        {
            Checker checker = Find(userAgent, source, timestamp);
            checker.Probe(timestamp, _time.TimestampFrequency, passed, _drainStartedAt);
            changed = _changed;
        }

        // Outside the lock: the traffic wait re-reads the evidence (a threshold reached, a silence moved on).
        changed?.Invoke();
    }

    /// <summary>
    /// Marks the drain's start: from here on failures count, and the checkers seen in the window before it (at least twice, so
    /// with a period, and not already silent for <c>StoppedAfterPeriods</c> of their periods) are the ones the wait must see let
    /// go. Returns how many there are.
    /// </summary>
    /// <param name="drainStartedAt">The drain's start, a <see cref="TimeProvider"/> timestamp.</param>
    /// <param name="changed">Called after every probe from now on.</param>
    public int Freeze(long drainStartedAt, Action changed)
    {
        lock (_sync)
        {
            _drainStartedAt = drainStartedAt;
            _changed = changed;
            int seen = 0;
            foreach (Checker checker in All())
            {
                // A checker probes periodically: one call (a person's curl, a monitor's one-off) has no period and is not one.
                checker.SeenBeforeDrain = checker.ProbesBeforeDrain >= 2
                    && _time.GetElapsedTime(checker.LastProbe, drainStartedAt) <= _window
                    && _time.GetElapsedTime(checker.LastProbe, drainStartedAt) <= SilenceLimit(checker);
                if (checker.SeenBeforeDrain)
                {
                    seen++;
                }
            }

            return seen;
        }
    }

    /// <summary>
    /// The moment (from the drain start) by which every checker seen before the drain will have let go if no probe arrives
    /// meanwhile; <see cref="TimeSpan.Zero"/> when all have. Only meaningful after <see cref="Freeze"/>.
    /// </summary>
    public TimeSpan AllLetGoAt()
    {
        lock (_sync)
        {
            TimeSpan latest = TimeSpan.Zero;
            foreach (Checker checker in All())
            {
                if (checker.SeenBeforeDrain)
                {
                    TimeSpan at = LetGoAt(checker).At;
                    latest = at > latest ? at : latest;
                }
            }

            return latest;
        }
    }

    /// <summary>What each checker did, for the report; <paramref name="elapsed"/> is when the wait ended, from the drain start.</summary>
    public IReadOnlyList<HealthCheckerVerdict> Verdicts(TimeSpan elapsed)
    {
        lock (_sync)
        {
            var verdicts = new List<HealthCheckerVerdict>(_checkers.Count + 1);
            foreach (Checker checker in All())
            {
                if (!checker.SeenBeforeDrain && checker.ProbesAfterDrain == 0)
                {
                    continue; // gone before the window, or before the drain: not part of this shutdown
                }

                (TimeSpan at, bool byFailures) = LetGoAt(checker);
                TimeSpan? period = checker.PeriodSeconds > 0 ? TimeSpan.FromSeconds(checker.PeriodSeconds) : null;
                verdicts.Add(new HealthCheckerVerdict(checker.UserAgent, Describe(checker.Source), checker.Profile, period,
                    checker.SeenBeforeDrain, checker.ProbesAfterDrain, checker.ConsecutiveFailures,
                    checker.ProbesAfterDrain > 0 ? _time.GetElapsedTime(_drainStartedAt, checker.LastProbe) : null,
                    at <= elapsed ? at : null, byFailures));
            }

            return verdicts;
        }
    }

    private IEnumerable<Checker> All() => _others is null ? _checkers : _checkers.Append(_others);

    /// <summary>When the checker lets go: its threshold-th failure plus the apply lag, or its silence limit plus the apply lag.</summary>
    private (TimeSpan At, bool ByFailures) LetGoAt(Checker checker)
    {
        TimeSpan lag = checker.Profile.ApplyLag;
        TimeSpan silent = _time.GetElapsedTime(_drainStartedAt, checker.LastProbe) + SilenceLimit(checker) + lag;
        if (checker.ThresholdReachedAt != 0)
        {
            TimeSpan failed = _time.GetElapsedTime(_drainStartedAt, checker.ThresholdReachedAt) + lag;
            if (failed <= silent)
            {
                return (failed < TimeSpan.Zero ? TimeSpan.Zero : failed, true);
            }
        }

        return (silent < TimeSpan.Zero ? TimeSpan.Zero : silent, false);
    }

    private TimeSpan SilenceLimit(Checker checker)
    {
        // The overflow sums unrelated sources: their combined interval (a burst of made-up checkers every second) says nothing
        // about when any one of them stopped, so it falls silent by the assumed interval at least (3 × 30 s), never less.
        double assumed = checker.Profile.Interval.TotalSeconds;
        double period = !checker.CountsFailures ? Math.Max(checker.PeriodSeconds, assumed)
            : checker.PeriodSeconds > 0 ? checker.PeriodSeconds : assumed;
        return TimeSpan.FromSeconds(Math.Min(period * _options.StoppedAfterPeriods, TimeSpan.FromDays(1).TotalSeconds));
    }

    private Checker Find(string userAgent, IPAddress? source, long timestamp)
    {
        ReadOnlySpan<char> key = userAgent.AsSpan(0, Math.Min(userAgent.Length, MaxUserAgentLength));
        int stale = -1;
        for (int i = 0; i < _checkers.Count; i++)
        {
            Checker checker = _checkers[i];
            if (Equals(checker.Source, source) && key.SequenceEqual(checker.UserAgent))
            {
                return checker;
            }

            if (stale < 0 && _drainStartedAt == 0 && _time.GetElapsedTime(checker.LastProbe, timestamp) > _window)
            {
                stale = i;
            }
        }

        if (_checkers.Count >= Capacity && stale < 0)
        {
            // The table is full of checkers probing now: the rest are summed into one that lets go only when they all fall silent.
            return _others ??= new Checker(HealthCheckerVerdict.Others, null, HealthCheckerProfile.Unrecognised with { Name = "others" },
                countsFailures: false);
        }

        var added = new Checker(key.ToString(), source, HealthCheckerProfile.For(userAgent, _options.Profiles), countsFailures: true);
        if (stale >= 0)
        {
            _checkers[stale] = added;
        }
        else
        {
            _checkers.Add(added);
        }

        return added;
    }

    private static string Describe(IPAddress? address) =>
        address is null ? "unknown" : (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString();

    /// <summary>One checker: a User-Agent probing from one source address.</summary>
    private sealed class Checker(string userAgent, IPAddress? source, HealthCheckerProfile profile, bool countsFailures)
    {
        public string UserAgent { get; } = userAgent;

        public IPAddress? Source { get; } = source;

        public HealthCheckerProfile Profile { get; } = profile;

        /// <summary>Gets whether its failures count: not for the overflow, which lets go only by falling silent.</summary>
        public bool CountsFailures { get; } = countsFailures;

        public long FirstProbe { get; private set; }

        public long LastProbe { get; private set; }

        /// <summary>Gets the smoothed interval between probes in seconds; 0 until two probes were seen.</summary>
        public double PeriodSeconds { get; private set; }

        public bool SeenBeforeDrain { get; set; }

        public int ProbesBeforeDrain { get; private set; }

        public int ProbesAfterDrain { get; private set; }

        public int ConsecutiveFailures { get; private set; }

        /// <summary>Gets when the unhealthy threshold was reached after the drain began; 0 while it is not.</summary>
        public long ThresholdReachedAt { get; private set; }

        public void Probe(long timestamp, long frequency, bool passed, long drainStartedAt)
        {
            if (FirstProbe == 0)
            {
                FirstProbe = timestamp;
            }
            else if (timestamp > LastProbe)
            {
                // Two probes that overlap (a retry, a fleet's processes behind one address) say nothing about the period.
                double interval = (timestamp - LastProbe) / (double)frequency;
                PeriodSeconds = PeriodSeconds == 0 ? interval : PeriodSeconds + PeriodSmoothing * (interval - PeriodSeconds);
            }

            LastProbe = Math.Max(LastProbe, timestamp);
            if (drainStartedAt == 0 || timestamp < drainStartedAt)
            {
                ProbesBeforeDrain++;
                return;
            }

            ProbesAfterDrain++;
            if (passed || !CountsFailures)
            {
                ConsecutiveFailures = 0;
                ThresholdReachedAt = 0;
                return;
            }

            ConsecutiveFailures++;
            if (ConsecutiveFailures == Profile.UnhealthyThreshold)
            {
                ThresholdReachedAt = timestamp;
            }
        }
    }
}
