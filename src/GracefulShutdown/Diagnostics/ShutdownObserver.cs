using System.Globalization;
using GracefulShutdown.Checkers;
using GracefulShutdown.Connections;
using GracefulShutdown.Hosting;
using GracefulShutdown.Lifecycle;
using GracefulShutdown.Work;
using Microsoft.Extensions.Logging;

namespace GracefulShutdown.Diagnostics;

/// <summary>
/// The one telemetry owner of the lifecycle: the phases tell it what happened, in plain facts, and it writes the log line,
/// the instrument, the step of the <see cref="ShutdownReport"/> (and with it the activity event) and the report's facts.
/// </summary>
/// <remarks>
/// Each phase keeps its own log category (users filter by them), so the observer holds one logger per phase.
/// </remarks>
internal sealed class ShutdownObserver
{
    private readonly GracefulShutdownMetrics _metrics;
    private readonly ShutdownReport _report;
    private readonly ILogger _lifecycle;
    private readonly ILogger _trafficWait;
    private readonly ILogger _connections;
    private readonly ILogger _serverDrain;
    private readonly ILogger _work;
    private readonly ILogger _host;
    private readonly ILogger _platform;
    private readonly ILogger _budget;
    private string? _platformReason;

    public ShutdownObserver(ILoggerFactory loggerFactory, GracefulShutdownMetrics metrics, ShutdownReport report)
    {
        _metrics = metrics;
        _report = report;
        _lifecycle = loggerFactory.CreateLogger<LifecycleState>();
        _trafficWait = loggerFactory.CreateLogger<TrafficWait>();
        _connections = loggerFactory.CreateLogger<LongLivedConnectionCloser>();
        _serverDrain = loggerFactory.CreateLogger<ServerDrain>();
        _work = loggerFactory.CreateLogger<WorkDrain>();
        _host = loggerFactory.CreateLogger<LifecycleHostedService>();
        _platform = loggerFactory.CreateLogger<PlatformTermination>();
        _budget = loggerFactory.CreateLogger<ShutdownBudgetSource>();
    }

    /// <summary>The host has started and every start-up gate completed.</summary>
    public void Ready(int startupGateCount) => _lifecycle.Ready(startupGateCount);

    /// <summary>The drain began at <paramref name="drainStartedAt"/> (a <see cref="TimeProvider"/> timestamp).</summary>
    public void DrainStarted(DrainTrigger trigger, long inFlight, long drainStartedAt)
    {
        // The platform's reason, when it is known by now (a watch event may come after the signal: PlatformReason reports it then).
        string? reason = Volatile.Read(ref _platformReason);
        _lifecycle.DrainStarted(trigger, inFlight, reason is null ? "" : " Reason: " + reason + ".");
        _report.DrainStarted(trigger.ToString(), inFlight, drainStartedAt);
        if (reason is not null)
        {
            _report.Add("platform", "reason: " + reason);
        }
    }

    /// <summary>A platform add-on reported the moment the process is killed (<see cref="ITerminationFacts.ReportDeadline"/>).</summary>
    public void PlatformDeadline(string source, DateTimeOffset killAt, double inSeconds)
    {
        _platform.PlatformDeadline(source, killAt, inSeconds);
        _report.Add("platform", string.Create(CultureInfo.InvariantCulture, $"deadline from {source}: {killAt:O} ({inSeconds:0.000} s from now)"));
    }

    /// <summary>A platform add-on reported why the process goes; the drain-start line carries it when it came first.</summary>
    public void PlatformReason(string reason)
    {
        Volatile.Write(ref _platformReason, reason);
        _platform.PlatformReason(reason);

        // Steps before the drain are ignored by the report: DrainStarted adds the reason then.
        _report.Add("platform", "reason: " + reason);
    }

    /// <summary>A platform add-on said the traffic wait is futile.</summary>
    public void PlatformSkipsTrafficWait(string why)
    {
        _platform.PlatformSkipsTrafficWait(why);
        _report.Add("platform", "traffic wait skipped: " + why);
    }

    /// <summary>A platform add-on holds readiness while draining (the last serving endpoint).</summary>
    public void ReadinessHeld(string why)
    {
        _platform.ReadinessHeld(why);
        _report.Add("platform", "readiness held: " + why);
    }

    /// <summary>A readiness hold was released.</summary>
    public void ReadinessReleased(string why)
    {
        _platform.ReadinessReleased(why);
        _report.Add("platform", "readiness hold released: " + why);
    }

    /// <summary>The platform's deadline left the configured budget in force: it was not shorter.</summary>
    public void ConfiguredDeadlineRuled(ShutdownBudget configured, string source, TimeSpan grace) =>
        _report.Facts.Deadline = string.Create(CultureInfo.InvariantCulture,
            $"configured ({configured.TerminationGracePeriod.TotalSeconds:0.###} s; {source} leaves {grace.TotalSeconds:0.000} s)");

    /// <summary>The budget was fitted to the platform's shorter deadline.</summary>
    public void BudgetFitted(ShutdownBudget budget, ShutdownBudget configured, string source)
    {
        _report.Facts.Deadline = string.Create(CultureInfo.InvariantCulture,
            $"{source}, {budget.TerminationGracePeriod.TotalSeconds:0.000} s from the drain's start (configured {configured.TerminationGracePeriod.TotalSeconds:0.###} s)");
        _budget.BudgetFitted(source, budget.TerminationGracePeriod.TotalSeconds, configured.TerminationGracePeriod,
            budget.TrafficWaitMaximum.TotalSeconds, budget.DrainTimeout.TotalSeconds, budget.CloseTimeout.TotalSeconds, budget.StopMargin.TotalSeconds);
        _report.Add("platform", string.Create(CultureInfo.InvariantCulture,
            $"budget fitted to {source}: traffic wait ≤ {budget.TrafficWaitMaximum.TotalSeconds:0.000} s, drain {budget.DrainTimeout.TotalSeconds:0.000} s, stop work {budget.StopMargin.TotalSeconds:0.000} s"));
    }

    /// <summary>The traffic wait ended.</summary>
    /// <param name="result">How it ended and the evidence it read.</param>
    /// <param name="rateBasis">The arrivals the lower rate bound came from.</param>
    /// <param name="lastArrival">When the last request during the wait arrived, from the drain start; <see langword="null"/> for none.</param>
    /// <param name="lateCallers">Who sent requests during the wait.</param>
    public void TrafficWaitEnded(TrafficWaitResult result, RateBasis rateBasis, TimeSpan? lastArrival, IReadOnlyList<LateCaller> lateCallers)
    {
        // Text, not a number: with no traffic the silence is infinite, which JSON log formatters cannot write.
        string conclusive = result.ConclusiveSilence == TimeSpan.MaxValue
            ? "none (no traffic seen)"
            : result.ConclusiveSilence.TotalSeconds.ToString("0.### 's'", CultureInfo.InvariantCulture);
        _trafficWait.TrafficWaitEnded(result.Outcome, result.Elapsed.TotalSeconds, result.RequestsDuringWait, result.LowerRate, conclusive,
            result.Before.RecentRequests, result.Before.RecentSeconds, rateBasis.Requests, rateBasis.Seconds);

        ShutdownFacts facts = _report.Facts;
        facts.WaitOutcome = result.Outcome.ToString();
        facts.WaitSeconds = result.Elapsed.TotalSeconds;
        facts.LowerRate = result.LowerRate;
        facts.ConclusiveSilence = conclusive;
        facts.LastArrivalSeconds = lastArrival?.TotalSeconds ?? -1;
        _report.Add("traffic wait", string.Create(CultureInfo.InvariantCulture,
            $"ended ({result.Outcome}), {result.RequestsDuringWait} requests during the wait, rate ≥ {result.LowerRate:0.###}/s, conclusive silence {conclusive}"));

        if (lateCallers.Count > 0)
        {
            _trafficWait.LateCallers(lateCallers.Count, LateCallers.Describe(lateCallers));
            foreach (LateCaller caller in lateCallers)
            {
                _metrics.RecordLateCallerLastArrival(caller.LastArrival.TotalSeconds);
            }
        }

        _metrics.RecordTrafficWait(result.Outcome, result.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// What each health checker did (event 110 per checker, a report step each, the let-go histogram) once the wait ended; event 111
    /// for each checker seen before the drain that had not let go when <paramref name="maximum"/> ran out.
    /// </summary>
    public void HealthCheckersReported(IReadOnlyList<HealthCheckerVerdict> verdicts, TrafficWaitOutcome outcome, TimeSpan maximum)
    {
        foreach (HealthCheckerVerdict v in verdicts)
        {
            string verdict = Verdict(v);
            _trafficWait.HealthChecker(v.UserAgent, v.Source, v.Profile.Name, v.Profile.UnhealthyThreshold, v.Profile.ApplyLag.TotalSeconds,
                v.Period is { } period ? period.TotalSeconds.ToString("0.### 's'", CultureInfo.InvariantCulture) : "not learned",
                v.ProbesAfterDrain, v.ConsecutiveFailures,
                v.LastProbe is { } last ? string.Create(CultureInfo.InvariantCulture, $"at +{last.TotalSeconds:0.000} s") : "none",
                verdict);
            _report.Add("health checker", string.Create(CultureInfo.InvariantCulture, $"{v.UserAgent} from {v.Source}: {verdict}"));
            if (!v.SeenBeforeDrain)
            {
                continue;
            }

            if (v.LetGoAt is { } letGo)
            {
                _metrics.RecordCheckerLetGo(v.Profile.Name, v.ByFailures, letGo.TotalSeconds);
                continue;
            }

            _metrics.AddCheckerHeld(v.Profile.Name);
            if (outcome == TrafficWaitOutcome.MaximumReached)
            {
                _trafficWait.HealthCheckerHeldToMaximum(v.UserAgent, v.Source, maximum, v.ConsecutiveFailures, v.Profile.UnhealthyThreshold,
                    v.Profile.Name, v.Needs.TotalSeconds);
            }
        }

        static string Verdict(HealthCheckerVerdict v) =>
            !v.SeenBeforeDrain ? "first seen after the drain began, not part of the decision"
            : v.LetGoAt is not { } at ? "had not let go when the wait ended"
            : v.ByFailures ? string.Create(CultureInfo.InvariantCulture,
                $"let go at +{at.TotalSeconds:0.000} s ({v.Profile.UnhealthyThreshold} consecutive failures + {v.Profile.ApplyLag.TotalSeconds:0.###} s apply lag)")
            : string.Create(CultureInfo.InvariantCulture,
                $"let go at +{at.TotalSeconds:0.000} s (stopped probing + {v.Profile.ApplyLag.TotalSeconds:0.###} s apply lag)");
    }

    /// <summary>The traffic wait's maximum ran out while requests were still arriving.</summary>
    public void TrafficWaitMaximumReached(TimeSpan sinceLastRequest, TimeSpan maximum) =>
        _trafficWait.TrafficWaitMaximumReached(sinceLastRequest.TotalSeconds, maximum);

    /// <summary>The close of the WebSockets began; <paramref name="optedOut"/> are left to their endpoints.</summary>
    public void WebSocketsClosing(int closing, int optedOut, TimeSpan window)
    {
        _connections.ClosingWebSockets(closing, optedOut, window);
        if (closing > 0)
        {
            _report.Add("connections", string.Create(CultureInfo.InvariantCulture,
                $"closing {closing} WebSockets with 1001 over {window.TotalSeconds:0.###} s"));
        }
    }

    /// <summary>Closing one WebSocket failed (the client may be gone already); it is aborted at the deadline if still open.</summary>
    public void WebSocketCloseFailed(Exception exception) => _connections.WebSocketCloseFailed(exception.Message);

    /// <summary>The close of the WebSockets ended: <paramref name="closed"/> cleanly, <paramref name="aborted"/> at the close timeout.</summary>
    public void WebSocketsClosed(int closed, int aborted, TimeSpan elapsed, TimeSpan closeTimeout)
    {
        _metrics.AddWebSocketsClosed(closed);
        if (aborted > 0)
        {
            _metrics.AddWebSocketsAborted(aborted);
            _connections.WebSocketsAborted(aborted, closeTimeout);
        }

        _connections.WebSocketsClosed(closed, elapsed.TotalSeconds);
        _report.Add("connections", string.Create(CultureInfo.InvariantCulture, $"{closed} WebSockets closed, {aborted} aborted"));
    }

    /// <summary>The server stopped accepting connections; <paramref name="inFlight"/> requests have <paramref name="drainTime"/> to finish.</summary>
    public void ServerDrainStarted(long inFlight, TimeSpan drainTime)
    {
        _serverDrain.ServerDrainStarted(inFlight, drainTime);
        _report.Facts.InFlightAtServerDrain = inFlight;
        _report.Add("server", string.Create(CultureInfo.InvariantCulture, $"stopped accepting connections, {inFlight} requests in flight"));
    }

    /// <summary>The server stopped after <paramref name="elapsed"/>; <paramref name="aborted"/> requests were still in flight at the deadline.</summary>
    public void ServerDrainEnded(TimeSpan elapsed, long aborted, TimeSpan drainTimeout)
    {
        double seconds = elapsed.TotalSeconds;
        _metrics.RecordServerDrain(seconds);
        _report.Facts.ServerDrainSeconds = seconds;
        _report.Facts.Aborted = aborted;
        _report.Add("server", string.Create(CultureInfo.InvariantCulture, $"stopped after {seconds:0.000} s, {aborted} requests aborted"));
        if (aborted > 0)
        {
            _metrics.AddAbortedRequests(aborted);
            _serverDrain.DrainTimeoutReached(drainTimeout, aborted);
        }
        else
        {
            _serverDrain.ServerDrainCompleted(seconds);
        }
    }

    /// <summary>The stop waits for the work in progress, described by <paramref name="running"/>.</summary>
    public void WorkWaiting(string running)
    {
        _work.WaitingForWork(running);
        _report.Add("work", "waiting for " + running);
    }

    /// <summary>The work in progress finished.</summary>
    public void WorkDone() => _report.Add("work", "done");

    /// <summary>Work, described by <paramref name="left"/>, was still running at the drain deadline.</summary>
    public void WorkOutstanding(string left)
    {
        _work.WorkOutstanding(left);
        _report.Add("work", "still running at the deadline: " + left);
    }

    /// <summary>The host has stopped: the shutdown sequence is over, the report is written once.</summary>
    public void ShutdownCompleted(TimeSpan sinceDrainStarted, DrainTrigger trigger)
    {
        _host.ShutdownComplete(sinceDrainStarted.TotalSeconds, trigger);
        _report.Complete();
    }
}
