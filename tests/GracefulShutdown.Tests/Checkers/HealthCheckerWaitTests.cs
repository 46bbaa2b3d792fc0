using System.Net;
using GracefulShutdown.Checkers;
using GracefulShutdown.Lifecycle;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace GracefulShutdown.Tests.Checkers;

/// <summary>
/// The traffic wait with health checkers seen before the drain (docs/health-checkers.md): it ends (not before Minimum) when every
/// checker has let go and no request arrived for QuietPeriod; a checker that has not let go holds it up to Maximum.
/// </summary>
public sealed class HealthCheckerWaitTests
{
    private static readonly TimeSpan Safety = TimeSpan.FromSeconds(10);
    private static readonly IPAddress Balancer = IPAddress.Parse("10.0.0.1");
    private readonly FakeTimeProvider _time = new();
    private readonly GracefulShutdownOptions _options = new()
    {
        TrafficWait = { Minimum = TimeSpan.FromSeconds(5), QuietPeriod = TimeSpan.FromMilliseconds(250), Maximum = TimeSpan.FromSeconds(15) },
    };

    private TestLifecycle CreateRunning() => TestLifecycle.StartTrafficHistory(_time, _options);

    private static HealthCheckerLedger Ledger(TestLifecycle lifecycle) => lifecycle.Services.GetRequiredService<HealthCheckerLedger>();

    private void Probe(TestLifecycle lifecycle, string userAgent, IPAddress source, bool passed) =>
        Ledger(lifecycle).Record(userAgent, source, _time.GetTimestamp(), passed);

    /// <summary>
    /// <paramref name="seconds"/> seconds before the drain: one application request every 5 s (a sparse caller: silence proves
    /// nothing, so without checkers the wait runs to Maximum) and, every <paramref name="every"/> seconds, a passing probe.
    /// </summary>
    private void Serve(TestLifecycle lifecycle, int seconds, string? userAgent, IPAddress source, int every = 1)
    {
        for (int second = 0; second < seconds; second++)
        {
            if (second % 5 == 0)
            {
                lifecycle.Requests.OnRequestStarted();
                lifecycle.Requests.OnRequestFinished();
            }

            _time.Advance(TimeSpan.FromSeconds(1));
            if (userAgent is not null && second % every == 0)
            {
                Probe(lifecycle, userAgent, source, passed: true);
            }
        }
    }

    /// <summary>Advances second by second; each second a failing probe from each given checker.</summary>
    private void ProbeFailing(TestLifecycle lifecycle, int seconds, params (string UserAgent, IPAddress Source, int Every)[] checkers)
    {
        for (int second = 1; second <= seconds; second++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            foreach ((string userAgent, IPAddress source, int every) in checkers)
            {
                if (second % every == 0)
                {
                    Probe(lifecycle, userAgent, source, passed: false);
                }
            }
        }
    }

    [Fact]
    public async Task HaproxyWithoutUserAgent_SparseCaller_LetsGoAfterThreeFailures_WaitEndsAtMinimum()
    {
        using TestLifecycle lifecycle = CreateRunning();
        Serve(lifecycle, 60, HealthCheckerProfile.NoUserAgent, Balancer);

        Task<TrafficWaitResult> wait = lifecycle.DrainOnSigTermAsync();
        ProbeFailing(lifecycle, 4, (HealthCheckerProfile.NoUserAgent, Balancer, 1));
        _time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(wait.IsCompleted); // let go at +3 s (fall 3, no lag), but never before Minimum
        _time.Advance(TimeSpan.FromMilliseconds(1));
        TrafficWaitResult result = await wait.WaitAsync(Safety);

        Assert.Equal(TrafficWaitOutcome.CheckersLetGo, result.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(5), result.Elapsed); // the same history without a checker runs to Maximum (15 s)
        HealthCheckerVerdict verdict = Assert.Single(Ledger(lifecycle).Verdicts(result.Elapsed));
        Assert.Equal(("(none)", "10.0.0.1", "haproxy-httpchk", true), (verdict.UserAgent, verdict.Source, verdict.Profile.Name, verdict.ByFailures));
        Assert.Equal(TimeSpan.FromSeconds(3), verdict.LetGoAt);
        Assert.Equal(TimeSpan.FromSeconds(1), verdict.Period);
    }

    [Fact]
    public async Task ElbChecker_WaitsForItsThresholdPlusApplyLag_NotForTheArrivals()
    {
        _options.TrafficWait.Maximum = TimeSpan.FromSeconds(60);
        using TestLifecycle lifecycle = CreateRunning();
        Serve(lifecycle, 60, "ELB-HealthChecker/2.0", Balancer, every: 5);

        Task<TrafficWaitResult> wait = lifecycle.DrainOnSigTermAsync();
        ProbeFailing(lifecycle, 49, ("ELB-HealthChecker/2.0", Balancer, 5));
        _time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(wait.IsCompleted); // 2 failures at +5 s and +10 s; the NLB may route 40 s longer
        _time.Advance(TimeSpan.FromMilliseconds(1));
        TrafficWaitResult result = await wait.WaitAsync(Safety);

        Assert.Equal(TrafficWaitOutcome.CheckersLetGo, result.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(50), result.Elapsed);
    }

    [Fact]
    public async Task SlowBalancer_IdleReplica_HeldPastTheIdleRule_UntilItsThirdFailure()
    {
        _options.TrafficWait.Maximum = TimeSpan.FromSeconds(60);
        _options.HealthCheckers.Profiles["(none)"] = new HealthCheckerProfileOptions { UnhealthyThreshold = 3, ApplyLag = TimeSpan.Zero };
        using TestLifecycle lifecycle = CreateRunning();
        for (int second = 0; second < 600; second++)
        {
            _time.Advance(TimeSpan.FromSeconds(1)); // no application request for 10 minutes: without checkers, Idle at Minimum
            if (second % 2 == 0)
            {
                Probe(lifecycle, HealthCheckerProfile.NoUserAgent, Balancer, passed: true);
            }
        }

        Task<TrafficWaitResult> wait = lifecycle.DrainOnSigTermAsync();
        ProbeFailing(lifecycle, 6, (HealthCheckerProfile.NoUserAgent, Balancer, 2));
        TrafficWaitResult result = await wait.WaitAsync(Safety);

        Assert.Equal(TrafficWaitOutcome.CheckersLetGo, result.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(6), result.Elapsed); // inter 2 s, fall 3: not 5 s (Idle), not 60 s (Maximum)
    }

    [Fact]
    public async Task CheckerStopsProbing_GoogleNegDetached_LetsGoAfterThreePeriodsPlusLag()
    {
        _options.TrafficWait.Maximum = TimeSpan.FromSeconds(60);
        using TestLifecycle lifecycle = CreateRunning();
        Serve(lifecycle, 60, "GoogleHC/1.0", Balancer, every: 5); // every 5 s, the last one 4 s before the drain

        Task<TrafficWaitResult> wait = lifecycle.DrainOnSigTermAsync();
        TrafficWaitResult result = await AdvanceUntil(wait, TimeSpan.FromSeconds(60));

        Assert.Equal(TrafficWaitOutcome.CheckersLetGo, result.Outcome);
        HealthCheckerVerdict verdict = Assert.Single(Ledger(lifecycle).Verdicts(result.Elapsed));
        Assert.False(verdict.ByFailures);
        Assert.Equal(0, verdict.ProbesAfterDrain);

        // Last probe 4 s before the drain; silent for 3 periods of 5 s, then the 10 s lag: +21 s.
        Assert.Equal(TimeSpan.FromSeconds(21), result.Elapsed);
    }

    [Fact]
    public async Task CheckerNeverLetsGo_HoldsTheWaitToMaximum_AndSaysWhatItNeeds()
    {
        using TestLifecycle lifecycle = CreateRunning();
        Serve(lifecycle, 60, "ELB-HealthChecker/2.0", Balancer, every: 5);

        Task<TrafficWaitResult> wait = lifecycle.DrainOnSigTermAsync();
        ProbeFailing(lifecycle, 14, ("ELB-HealthChecker/2.0", Balancer, 5));
        Assert.False(wait.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(1));
        TrafficWaitResult result = await wait.WaitAsync(Safety);

        Assert.Equal(TrafficWaitOutcome.MaximumReached, result.Outcome);
        FakeLogRecord warning = Assert.Single(lifecycle.Logs.GetSnapshot(), r => r.Id.Id == 111);
        Assert.Contains("ELB-HealthChecker/2.0 from 10.0.0.1", warning.Message, StringComparison.Ordinal);
        // 2 × the learned period (5.75 s: one gap of 9 s across the drain's start) + 40 s.
        Assert.Contains("needs about 51.5 s", warning.Message, StringComparison.Ordinal);
        Assert.Contains("2 of 2 failures seen", warning.Message, StringComparison.Ordinal);
        FakeLogRecord line = Assert.Single(lifecycle.Logs.GetSnapshot(), r => r.Id.Id == 110);
        Assert.Contains("had not let go", line.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SpoofedChecker_ThatLetsGoAtOnce_CannotEndTheWaitBeforeMinimum()
    {
        using TestLifecycle lifecycle = CreateRunning();
        Serve(lifecycle, 60, userAgent: null, Balancer);
        for (int i = 0; i < 100; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(10)); // a made-up checker with a 10 ms period, gone at the drain
            Probe(lifecycle, HealthCheckerProfile.NoUserAgent, IPAddress.Parse("6.6.6.6"), passed: true);
        }

        Task<TrafficWaitResult> wait = lifecycle.DrainOnSigTermAsync();
        _time.Advance(TimeSpan.FromMilliseconds(4999));
        Assert.False(wait.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        TrafficWaitResult result = await wait.WaitAsync(Safety);

        Assert.Equal(TrafficWaitOutcome.CheckersLetGo, result.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(5), result.Elapsed);
    }

    [Fact]
    public async Task CheckersLetGo_BusyCallersStillRouteUntil8s_ArrivalsMustAgree()
    {
        using TestLifecycle lifecycle = CreateRunning();
        for (int second = 0; second < 60; second++)
        {
            for (int i = 0; i < 300; i++)
            {
                lifecycle.Requests.OnRequestStarted();
                lifecycle.Requests.OnRequestFinished();
            }

            _time.Advance(TimeSpan.FromSeconds(1));
            Probe(lifecycle, HealthCheckerProfile.NoUserAgent, Balancer, passed: true);
        }

        Task<TrafficWaitResult> wait = lifecycle.DrainOnSigTermAsync();
        for (int tick = 1; tick <= 800; tick++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(10));
            if (tick % 100 == 0)
            {
                Probe(lifecycle, HealthCheckerProfile.NoUserAgent, Balancer, passed: false); // let go at +3 s
            }

            Assert.True(lifecycle.Requests.OnRequestStarted()); // but kube-proxy routes here until +8 s
            lifecycle.Requests.OnRequestFinished();
        }

        _time.Advance(TimeSpan.FromMilliseconds(249));
        Assert.False(wait.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        TrafficWaitResult result = await wait.WaitAsync(Safety);

        Assert.Equal(TrafficWaitOutcome.CheckersLetGo, result.Outcome);
        Assert.Equal(TimeSpan.FromMilliseconds(8250), result.Elapsed);
    }

    [Fact]
    public async Task CheckersLetGo_ButASparseCallerStillCallsAfterwards_SilenceMustBeConclusive()
    {
        using TestLifecycle lifecycle = CreateRunning();
        Serve(lifecycle, 60, HealthCheckerProfile.NoUserAgent, Balancer);

        Task<TrafficWaitResult> wait = lifecycle.DrainOnSigTermAsync();
        for (int second = 1; second <= 7; second++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            Probe(lifecycle, HealthCheckerProfile.NoUserAgent, Balancer, passed: false); // let go at +3 s
            if (second % 2 == 0)
            {
                Assert.True(lifecycle.Requests.OnRequestStarted()); // yet requests at +4 s and +6 s: another path routes here
                lifecycle.Requests.OnRequestFinished();
            }
        }

        _time.Advance(TimeSpan.FromSeconds(7));
        Assert.False(wait.IsCompleted); // a second of silence at this rate proves nothing
        _time.Advance(TimeSpan.FromSeconds(1));
        TrafficWaitResult result = await wait.WaitAsync(Safety);

        Assert.Equal(TrafficWaitOutcome.MaximumReached, result.Outcome);
    }

    [Fact]
    public async Task SpoofedUserAgent_BesideARealChecker_CanOnlyHoldTheWaitLonger()
    {
        using TestLifecycle lifecycle = CreateRunning();
        Serve(lifecycle, 60, HealthCheckerProfile.NoUserAgent, Balancer);
        IPAddress spoofer = IPAddress.Parse("6.6.6.6");
        Probe(lifecycle, "GoogleHC/1.0", spoofer, passed: true); // claims to be Google: threshold 2, lag 10 s
        _time.Advance(TimeSpan.FromMilliseconds(500));
        Probe(lifecycle, "GoogleHC/1.0", spoofer, passed: true);
        Probe(lifecycle, HealthCheckerProfile.NoUserAgent, Balancer, passed: true);

        Task<TrafficWaitResult> wait = lifecycle.DrainOnSigTermAsync();
        ProbeFailing(lifecycle, 14, (HealthCheckerProfile.NoUserAgent, Balancer, 1), ("GoogleHC/1.0", spoofer, 1));
        _time.Advance(TimeSpan.FromSeconds(1));
        TrafficWaitResult result = await wait.WaitAsync(Safety);

        // The real checker let go at +3 s; the spoofer's 2nd failure at +2 s plus its 10 s lag holds the wait to +12 s.
        Assert.Equal(TrafficWaitOutcome.CheckersLetGo, result.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(12), result.Elapsed);
    }

    [Fact]
    public async Task OneOffCaller_OfTheReadinessEndpoint_IsNoChecker_TodaysRuleApplies()
    {
        using TestLifecycle lifecycle = CreateRunning();
        Serve(lifecycle, 60, userAgent: null, Balancer);
        Probe(lifecycle, "curl/8.5.0", IPAddress.Parse("10.9.9.9"), passed: true); // a person looks once: no period, no checker

        Task<TrafficWaitResult> wait = lifecycle.DrainOnSigTermAsync();
        _time.Advance(TimeSpan.FromSeconds(15));
        TrafficWaitResult result = await wait.WaitAsync(Safety);

        Assert.Equal(TrafficWaitOutcome.MaximumReached, result.Outcome); // the sparse caller's rule, not a checker's hold
        Assert.DoesNotContain(lifecycle.Logs.GetSnapshot(), r => r.Id.Id == 111);
    }

    [Fact]
    public async Task CheckerThatDisappearedBeforeTheDrain_IsNotEvidence_TodaysRuleApplies()
    {
        using TestLifecycle lifecycle = CreateRunning();
        Serve(lifecycle, 30, HealthCheckerProfile.NoUserAgent, Balancer);
        Serve(lifecycle, 30, userAgent: null, Balancer); // silent for 30 s: 15 of its periods

        Task<TrafficWaitResult> wait = lifecycle.DrainOnSigTermAsync();
        _time.Advance(TimeSpan.FromSeconds(14));
        Assert.False(wait.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(1));
        TrafficWaitResult result = await wait.WaitAsync(Safety);

        Assert.Equal(TrafficWaitOutcome.MaximumReached, result.Outcome); // the sparse caller's rule, as without checkers
        Assert.Empty(Ledger(lifecycle).Verdicts(result.Elapsed));
    }

    [Fact]
    public async Task CheckerFirstSeenAfterTheDrain_CannotHoldTheWait()
    {
        using TestLifecycle lifecycle = CreateRunning();
        for (int second = 0; second < 600; second++)
        {
            _time.Advance(TimeSpan.FromSeconds(1)); // an idle replica that no checker probed
        }

        Task<TrafficWaitResult> wait = lifecycle.DrainOnSigTermAsync();
        ProbeFailing(lifecycle, 10, ("ELB-HealthChecker/2.0", Balancer, 1));
        TrafficWaitResult result = await wait.WaitAsync(Safety);

        Assert.Equal(TrafficWaitOutcome.Idle, result.Outcome); // a checker that arrives after the drain holds nothing
        Assert.Equal(TimeSpan.FromSeconds(5), result.Elapsed);
        HealthCheckerVerdict verdict = Assert.Single(Ledger(lifecycle).Verdicts(result.Elapsed));
        Assert.False(verdict.SeenBeforeDrain);
    }

    [Fact]
    public async Task FleetOfSources_EverySourceMustLetGo()
    {
        _options.TrafficWait.Maximum = TimeSpan.FromSeconds(60);
        _options.HealthCheckers.Profiles["ELB-HealthChecker"] = new HealthCheckerProfileOptions { ApplyLag = TimeSpan.FromSeconds(1) };
        using TestLifecycle lifecycle = CreateRunning();
        IPAddress nodeA = IPAddress.Parse("10.0.1.5"), nodeB = IPAddress.Parse("10.0.2.5");
        for (int second = 0; second < 60; second++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            Probe(lifecycle, "ELB-HealthChecker/2.0", nodeA, passed: true);
            if (second % 10 == 0)
            {
                Probe(lifecycle, "ELB-HealthChecker/2.0", nodeB, passed: true);
            }
        }

        Task<TrafficWaitResult> wait = lifecycle.DrainOnSigTermAsync();

        // Node A fails every second (let go at +2 s + 1 s); node B probes every 10 s: failures at +10 s and +20 s, let go at +21 s.
        ProbeFailing(lifecycle, 20, ("ELB-HealthChecker/2.0", nodeA, 1), ("ELB-HealthChecker/2.0", nodeB, 10));
        Assert.False(wait.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(1));
        TrafficWaitResult result = await wait.WaitAsync(Safety);

        Assert.Equal(TimeSpan.FromSeconds(21), result.Elapsed);
        Assert.Equal(2, Ledger(lifecycle).Verdicts(result.Elapsed).Count);
    }

    [Fact]
    public async Task FloodOfMadeUpCheckers_OverflowHoldsTheWaitToMaximum()
    {
        using TestLifecycle lifecycle = CreateRunning();
        Serve(lifecycle, 60, HealthCheckerProfile.NoUserAgent, Balancer);
        for (int i = 0; i < HealthCheckerLedger.Capacity + 10; i++)
        {
            Probe(lifecycle, $"made-up/{i}", IPAddress.Parse($"6.6.{i / 250}.{i % 250}"), passed: true);
        }

        Task<TrafficWaitResult> wait = lifecycle.DrainOnSigTermAsync();
        ProbeFailing(lifecycle, 15, (HealthCheckerProfile.NoUserAgent, Balancer, 1));
        TrafficWaitResult result = await wait.WaitAsync(Safety);

        Assert.Equal(TrafficWaitOutcome.MaximumReached, result.Outcome);
        Assert.Contains(Ledger(lifecycle).Verdicts(result.Elapsed), v => v.UserAgent == HealthCheckerVerdict.Others && v.LetGoAt is null);
    }

    [Fact]
    public async Task FloodOfMadeUpCheckers_FallingSilentAtTheDrain_HoldsForThreeAssumedPeriods_NotThreeOfItsCombinedInterval()
    {
        using TestLifecycle lifecycle = CreateRunning();
        Serve(lifecycle, 50, HealthCheckerProfile.NoUserAgent, Balancer);
        for (int second = 0; second < 10; second++)
        {
            // A burst every second: the overflow's combined interval is 1 s, though each made-up checker says nothing of its own.
            _time.Advance(TimeSpan.FromSeconds(1));
            Probe(lifecycle, HealthCheckerProfile.NoUserAgent, Balancer, passed: true);
            for (int i = 0; i < HealthCheckerLedger.Capacity + 10; i++)
            {
                Probe(lifecycle, $"made-up/{i}", IPAddress.Parse($"6.6.{i / 250}.{i % 250}"), passed: true);
            }
        }

        Task<TrafficWaitResult> wait = lifecycle.DrainOnSigTermAsync();
        ProbeFailing(lifecycle, 14, (HealthCheckerProfile.NoUserAgent, Balancer, 1)); // the flood stopped when the drain began

        // By its combined interval the overflow would have let go at +13 s (3 × 1 s + its 10 s lag): 3 × 30 s it is.
        Assert.False(wait.IsCompleted);
        ProbeFailing(lifecycle, 1, (HealthCheckerProfile.NoUserAgent, Balancer, 1));
        TrafficWaitResult result = await wait.WaitAsync(Safety);

        Assert.Equal(TrafficWaitOutcome.MaximumReached, result.Outcome);
        IReadOnlyList<HealthCheckerVerdict> verdicts = Ledger(lifecycle).Verdicts(result.Elapsed);
        Assert.Contains(verdicts, v => v.UserAgent == HealthCheckerProfile.NoUserAgent && v.LetGoAt is not null);
        Assert.Contains(verdicts, v => v.UserAgent == HealthCheckerVerdict.Others && v.LetGoAt is null);

        // Exactly when it would let go: silent since the drain began for 3 assumed periods of 30 s, plus the 10 s apply lag.
        HealthCheckerVerdict others = Assert.Single(Ledger(lifecycle).Verdicts(TimeSpan.FromDays(1)), v => v.UserAgent == HealthCheckerVerdict.Others);
        Assert.Equal(TimeSpan.FromSeconds(3 * 30 + 10), others.LetGoAt);
    }

    [Fact]
    public async Task Disabled_ChecksAreNotRead_TodaysRule()
    {
        _options.HealthCheckers.Enabled = false;
        using TestLifecycle lifecycle = CreateRunning();
        Serve(lifecycle, 60, HealthCheckerProfile.NoUserAgent, Balancer);

        Task<TrafficWaitResult> wait = lifecycle.DrainOnSigTermAsync();
        ProbeFailing(lifecycle, 15, (HealthCheckerProfile.NoUserAgent, Balancer, 1));
        TrafficWaitResult result = await wait.WaitAsync(Safety);

        Assert.Equal(TrafficWaitOutcome.MaximumReached, result.Outcome);
        Assert.DoesNotContain(lifecycle.Logs.GetSnapshot(), r => r.Id.Id == 110);
    }

    [Fact]
    public async Task Report_NamesEachChecker_AndRecordsWhenItLetGo()
    {
        using TestLifecycle lifecycle = CreateRunning();
        using var letGo = lifecycle.Collect<double>("graceful_shutdown.health_checker.let_go");
        Serve(lifecycle, 60, HealthCheckerProfile.NoUserAgent, Balancer);

        Task<TrafficWaitResult> wait = lifecycle.DrainOnSigTermAsync();
        ProbeFailing(lifecycle, 5, (HealthCheckerProfile.NoUserAgent, Balancer, 1));
        await wait.WaitAsync(Safety);

        FakeLogRecord line = Assert.Single(lifecycle.Logs.GetSnapshot(), r => r.Id.Id == 110);
        Assert.Equal(
            "Health checker (none) from 10.0.0.1 (haproxy-httpchk: unhealthy threshold 3, apply lag 0 s, period 1 s): 4 probes after the drain " +
            "began, 4 consecutive failures, last probe at +4.000 s; let go at +3.000 s (3 consecutive failures + 0 s apply lag).", line.Message);
        var measurement = Assert.Single(letGo.GetMeasurementSnapshot());
        Assert.Equal(3.0, measurement.Value);
        Assert.Equal("haproxy-httpchk", measurement.Tags["profile"]);
        Assert.Equal("failures", measurement.Tags["how"]);
    }

    private async Task<TrafficWaitResult> AdvanceUntil(Task<TrafficWaitResult> wait, TimeSpan limit)
    {
        for (TimeSpan t = TimeSpan.Zero; t < limit && !wait.IsCompleted; t += TimeSpan.FromMilliseconds(100))
        {
            _time.Advance(TimeSpan.FromMilliseconds(100));
        }

        return await wait.WaitAsync(Safety);
    }
}
