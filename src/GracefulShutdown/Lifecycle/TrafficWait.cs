using GracefulShutdown.Checkers;
using GracefulShutdown.Diagnostics;
using Microsoft.Extensions.Options;

namespace GracefulShutdown.Lifecycle;

/// <summary>
/// Keeps the application serving after the drain began until the evidence says load balancers have stopped routing here
/// (docs/traffic-wait.md): at least <c>Minimum</c>, at most <c>Maximum</c>, and in between until either the silence since
/// the last request would be unlikely at the arrival rate now (the recent window before the drain and the wait so far), or,
/// with no request in that present at all, fewer than <c>IdleThreshold</c> requests are expected before <c>Maximum</c>.
/// With health checkers seen before the drain (docs/health-checkers.md) their evidence decides instead: the wait ends once every
/// one of them has let go and no request arrived for <c>QuietPeriod</c>. Once every route an add-on watches (a registry's cached
/// view, <see cref="IGracefulShutdownRoutes"/>) has reported when its callers let go, that moment bounds the wait, arrivals agreeing.
/// One wait per drain, shared by every trigger.
/// </summary>
internal sealed class TrafficWait : IDisposable
{
    private readonly LifecycleState _state;
    private readonly RequestTracker _requests;
    private readonly TrafficHistory _history;
    private readonly TrafficWaitOptions _options;
    private readonly TimeProvider _time;
    private readonly ShutdownObserver _observer;
    private readonly HealthCheckerLedger _checkers;
    private readonly TrafficRoutes _routes;
    private readonly Lock _sync = new();
    private readonly CancellationTokenSource _ended = new();
    private readonly TaskCompletionSource<TrafficWaitResult> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TrafficWaitOutcome? _skipReason;
    private ITimer? _timer;
    private TrafficObservation _before;
    private long _start;
    private int _checkersSeen;
    private bool _finished;

    public TrafficWait(LifecycleState state, RequestTracker requests, TrafficHistory history, IOptions<GracefulShutdownOptions> options,
        TimeProvider time, ShutdownObserver observer, HealthCheckerLedger checkers, TrafficRoutes routes)
    {
        _checkers = checkers;
        _routes = routes;
        _observer = observer;
        _state = state;
        _requests = requests;
        _history = history;
        _options = options.Value.TrafficWait;
        _time = time;
    }

    /// <summary>Gets a token that is canceled when the wait is over.</summary>
    public CancellationToken Ended => _ended.Token;

    /// <summary>Ends the wait early (a second signal, Ctrl+C locally); the first reason given is the one reported.</summary>
    public void Skip(TrafficWaitOutcome reason)
    {
        lock (_sync)
        {
            _skipReason ??= reason;
        }

        Evaluate();
    }

    /// <summary>Returns the one traffic wait of this drain, starting it on first call. The drain must have begun.</summary>
    public Task<TrafficWaitResult> WaitAsync()
    {
        lock (_sync)
        {
            if (!_state.IsDraining)
            {
                throw new InvalidOperationException("The traffic wait starts only after the drain has begun.");
            }

            if (_timer is null)
            {
                if (!_state.BecameReady)
                {
                    // Nothing routed traffic to an instance that was never ready.
                    _skipReason ??= TrafficWaitOutcome.SkippedNeverReady;
                }

                _start = _state.DrainStartedAt;
                _before = _history.Freeze();
                _checkersSeen = _checkers.Enabled ? _checkers.Freeze(_start, Nudge) : 0;
                _routes.OnReported(Nudge);

                // A timer rather than an async loop: each evaluation runs on the timer's callback and re-arms it for the
                // earliest moment the wait could end; a request arriving meanwhile only moves that moment later.
                _timer = _time.CreateTimer(static wait => ((TrafficWait)wait!).Evaluate(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            }
        }

        Evaluate();
        return _result.Task;
    }

    private void Evaluate()
    {
        TrafficWaitResult result;
        lock (_sync)
        {
            if (_timer is null || _finished)
            {
                return;
            }

            long now = _time.GetTimestamp();
            TimeSpan elapsed = _time.GetElapsedTime(_start, now);
            Evidence evidence = Weigh(now, elapsed);
            TrafficWaitOutcome? outcome = _skipReason ?? Decide(elapsed, evidence);
            if (outcome is null)
            {
                _timer.Change(NextLook(elapsed, evidence), Timeout.InfiniteTimeSpan);
                return;
            }

            _timer.Dispose();
            _finished = true;
            result = new TrafficWaitResult(outcome.Value, elapsed, _requests.ArrivalsWhileDraining, evidence.LowerRate, evidence.UpperRate,
                evidence.ConclusiveSilence, _before);
        }

        // Reported before anyone awaiting the wait moves on to the next step.
        Report(result);
        _result.TrySetResult(result);

        // Callbacks (streams ending, connections closing) must not run on the timer or a signal handler.
        _ = _ended.CancelAsync();
    }

    /// <summary>A checker probed or a route reported during the wait: the evidence may have changed, so the timer looks again now.</summary>
    private void Nudge()
    {
        ITimer? timer;
        lock (_sync)
        {
            timer = _finished ? null : _timer;
        }

        timer?.Change(TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }

    private TrafficWaitOutcome? Decide(TimeSpan elapsed, Evidence evidence)
    {
        if (elapsed >= _options.Maximum)
        {
            return TrafficWaitOutcome.MaximumReached;
        }

        if (elapsed < _options.Minimum)
        {
            return null;
        }

        // Checkers seen before the drain decide: every one must have let go (and every route, once reported), and arrivals must
        // agree. One that has not holds the wait up to Maximum, whatever the silence says.
        if (_checkersSeen > 0)
        {
            return elapsed >= evidence.LetGoAt && evidence.Quiet >= evidence.CheckersQuiet(_options.QuietPeriod)
                ? evidence.RoutesLetGoAt > evidence.CheckersLetGoAt ? TrafficWaitOutcome.RoutesLetGo : TrafficWaitOutcome.CheckersLetGo
                : null;
        }

        // The routes add-ons watch bound the wait once their callers have let go, even before Maximum, if arrivals agree.
        if (evidence.RoutesLetGoAt <= elapsed && evidence.Quiet >= evidence.CheckersQuiet(_options.QuietPeriod))
        {
            return TrafficWaitOutcome.RoutesLetGo;
        }

        if (evidence.Quiet >= evidence.ConclusiveSilence)
        {
            return TrafficWaitOutcome.Quiet;
        }

        return evidence.MayBeIdle && evidence.Quiet >= _options.QuietPeriod
            && evidence.ExpectedBeforeMaximum(_options.Maximum - elapsed) <= _options.IdleThreshold
            ? TrafficWaitOutcome.Idle
            : null;
    }

    /// <summary>The earliest moment the decision could change if no request arrives.</summary>
    private TimeSpan NextLook(TimeSpan elapsed, Evidence evidence)
    {
        if (_checkersSeen > 0)
        {
            // A probe meanwhile nudges the timer: a threshold reached can only bring the moment forward.
            TimeSpan checkers = Max(_options.Minimum - elapsed,
                Max(evidence.CheckersQuiet(_options.QuietPeriod) - evidence.Quiet, evidence.LetGoAt - elapsed));
            return Min(Max(checkers, TimeSpan.FromMilliseconds(1)), _options.Maximum - elapsed);
        }

        TimeSpan untilConclusive = evidence.ConclusiveSilence == TimeSpan.MaxValue ? TimeSpan.MaxValue : evidence.ConclusiveSilence - evidence.Quiet;

        // The idle bound shrinks as the maximum nears: at the current rate bound, expected late requests fall to the threshold
        // then (the bound itself only falls while the silence lasts, so this is never too early).
        TimeSpan untilIdle = evidence.MayBeIdle && evidence.UpperRate > 0 && !double.IsPositiveInfinity(evidence.UpperRate)
            ? _options.Maximum - elapsed - TimeSpan.FromSeconds(Math.Min(_options.IdleThreshold / evidence.UpperRate, _options.Maximum.TotalSeconds))
            : TimeSpan.MaxValue;
        TimeSpan untilRoutes = evidence.RoutesLetGoAt is TimeSpan routes
            ? Max(routes - elapsed, evidence.CheckersQuiet(_options.QuietPeriod) - evidence.Quiet)
            : TimeSpan.MaxValue;
        TimeSpan next = Max(_options.Minimum - elapsed, Min(untilRoutes, Max(_options.QuietPeriod - evidence.Quiet, Min(untilConclusive, untilIdle))));
        return Min(Max(next, TimeSpan.FromMilliseconds(1)), _options.Maximum - elapsed);
    }

    /// <summary>
    /// What the arrivals before the drain and during the wait say at <paramref name="now"/>. Both bounds are of the rate now
    /// (docs/traffic-wait.md, "The present"): older evidence joins the present's only where it does not contradict it.
    /// </summary>
    private Evidence Weigh(long now, TimeSpan elapsed)
    {
        TrafficObservation before = _before;
        long start = _start;
        long duringWait = _requests.ArrivalsWhileDraining;
        long last = Math.Max(start, _requests.LastArrivalWhileDraining);

        // Arrivals during the wait are evidence too: a balancer routed here at least until the last of them.
        double lower = TrafficEvidence.LowerRateBasis(before, duringWait, _time.GetElapsedTime(start, last).TotalSeconds).LowerRate;
        double upper = TrafficEvidence.PresentUpperRate(before, duringWait, elapsed.TotalSeconds);
        TimeSpan conclusive = Max(_options.QuietPeriod, TrafficEvidence.ConclusiveSilence(lower, _options.SilenceConfidence));
        TimeSpan checkersLetGoAt = _checkersSeen > 0 ? _checkers.AllLetGoAt() : TimeSpan.Zero;
        TimeSpan? routesLetGoAt = _routes.AllLetGoAt(start);
        return new Evidence(_time.GetElapsedTime(last, now), conclusive, lower, upper, before.RecentRequests + duringWait, checkersLetGoAt,
            duringWait > 0 && _time.GetElapsedTime(start, last) > Max(checkersLetGoAt, routesLetGoAt ?? TimeSpan.Zero), routesLetGoAt);
    }

    private void Report(TrafficWaitResult result)
    {
        long start = _start;
        long lastArrival = _requests.LastArrivalWhileDraining;
        TimeSpan untilLastArrival = _time.GetElapsedTime(start, Math.Max(start, lastArrival));
        _observer.TrafficWaitEnded(result, Evidence.BasisOf(result, untilLastArrival), lastArrival == 0 ? null : untilLastArrival,
            _requests.LateCallers.Snapshot(start, _time));
        if (_checkers.Enabled)
        {
            _observer.HealthCheckersReported(_checkers.Verdicts(result.Elapsed),
                result.Outcome, _options.Maximum);
        }

        if (result.Outcome == TrafficWaitOutcome.MaximumReached && result.RequestsDuringWait > 0)
        {
            _observer.TrafficWaitMaximumReached(_time.GetElapsedTime(_requests.LastArrivalWhileDraining), _options.Maximum);
        }
    }

    /// <param name="Quiet">The silence since the last request, or since the drain start.</param>
    /// <param name="ConclusiveSilence">The silence that ends the wait as Quiet.</param>
    /// <param name="LowerRate">The lower bound of the rate now.</param>
    /// <param name="UpperRate">The upper bound of the rate now.</param>
    /// <param name="PresentRequests">The requests in the recent window before the drain and during the wait.</param>
    /// <param name="CheckersLetGoAt">When every checker seen before the drain will have let go, from the drain start, if no probe changes it.</param>
    /// <param name="ArrivedAfterCheckersLetGo">
    /// Whether a request arrived after that moment and after <paramref name="RoutesLetGoAt"/>: something the checkers and routes do
    /// not speak for routes here.
    /// </param>
    /// <param name="RoutesLetGoAt">When the callers of every route an add-on watches will have let go, from the drain start; null until all reported.</param>
    private readonly record struct Evidence(TimeSpan Quiet, TimeSpan ConclusiveSilence, double LowerRate, double UpperRate, long PresentRequests,
        TimeSpan CheckersLetGoAt, bool ArrivedAfterCheckersLetGo, TimeSpan? RoutesLetGoAt)
    {
        /// <summary>Gets when every evidence source seen (checkers, and routes once reported) will have let go, from the drain start.</summary>
        public TimeSpan LetGoAt => RoutesLetGoAt > CheckersLetGoAt ? RoutesLetGoAt.Value : CheckersLetGoAt;

        /// <summary>
        /// The silence that makes arrivals agree with the checkers: the quiet period, or — once a request came after every checker
        /// had let go, proof that another path still routes here — the silence the arrival rule finds conclusive.
        /// </summary>
        public TimeSpan CheckersQuiet(TimeSpan quietPeriod) => ArrivedAfterCheckersLetGo ? Max(ConclusiveSilence, quietPeriod) : quietPeriod;

        /// <summary>Gets whether the wait may end as Idle: never once a request arrived in the recent window or during the wait.</summary>
        public bool MayBeIdle => PresentRequests == 0;

        public double ExpectedBeforeMaximum(TimeSpan remaining) => UpperRate * remaining.TotalSeconds;

        /// <summary>
        /// The arrivals the lower bound of a finished wait came from, for event 102. The last arrival is capped at the wait's
        /// end: a request that came after the decision is not part of it.
        /// </summary>
        public static RateBasis BasisOf(TrafficWaitResult result, TimeSpan untilLastArrival) =>
            TrafficEvidence.LowerRateBasis(result.Before, result.RequestsDuringWait,
                Min(Max(untilLastArrival, TimeSpan.Zero), result.Elapsed).TotalSeconds);
    }

    public void Dispose()
    {
        lock (_sync)
        {
            _timer?.Dispose();
        }

        _ended.Dispose();
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
