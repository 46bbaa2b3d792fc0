using System.Net;
using GracefulShutdown.Checkers;
using GracefulShutdown.Lifecycle;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace GracefulShutdown.Tests.Lifecycle;

/// <summary>
/// The traffic wait with a route an add-on watches (<see cref="IGracefulShutdownRoutes"/>, e.g. Eureka's cached view): once every
/// route added has reported when its callers let go, that moment bounds the wait (not before Minimum, arrivals agreeing), even with
/// a larger Maximum; until then, and without routes, the rule is unchanged. Every replica here has a sparse caller (one request
/// every 10 s), so its arrivals alone run the wait to Maximum (60 s).
/// </summary>
public sealed class TrafficRouteWaitTests
{
    private static readonly TimeSpan Safety = TimeSpan.FromSeconds(10);
    private static readonly IPAddress Balancer = IPAddress.Parse("10.0.0.1");
    private readonly FakeTimeProvider _time = new();
    private readonly GracefulShutdownOptions _options = new()
    {
        TrafficWait = { Minimum = TimeSpan.FromSeconds(5), QuietPeriod = TimeSpan.FromMilliseconds(250), Maximum = TimeSpan.FromSeconds(60) },
    };

    private TestLifecycle CreateRunning() => TestLifecycle.StartTrafficHistory(_time, _options);

    private static IGracefulShutdownRoutes Routes(TestLifecycle lifecycle) => lifecycle.Services.GetRequiredService<IGracefulShutdownRoutes>();

    /// <summary>60 s before the drain: a request every 10 s and, with a checker, a passing probe every second.</summary>
    private void Serve(TestLifecycle lifecycle, string? checker = null)
    {
        for (int second = 0; second < 60; second++)
        {
            if (second % 10 == 0)
            {
                Request(lifecycle);
            }

            _time.Advance(TimeSpan.FromSeconds(1));
            if (checker is not null)
            {
                lifecycle.Services.GetRequiredService<HealthCheckerLedger>().Record(checker, Balancer, _time.GetTimestamp(), passed: true);
            }
        }
    }

    private static void Request(TestLifecycle lifecycle)
    {
        lifecycle.Requests.OnRequestStarted();
        lifecycle.Requests.OnRequestFinished();
    }

    /// <summary>Reports, now, that the route's callers let go <paramref name="fromNow"/> from now.</summary>
    private void Report(TestLifecycle lifecycle, TimeSpan fromNow, string route = "eureka") =>
        Routes(lifecycle).LetGoBy(route, _time.GetUtcNow() + fromNow);

    [Fact]
    public async Task RouteLetGo_EndsTheWaitAtItsMoment_NotAtMaximum()
    {
        using TestLifecycle lifecycle = CreateRunning();
        Routes(lifecycle).Add("eureka");
        Serve(lifecycle);

        Task<TrafficWaitResult> wait = lifecycle.DrainOnSigTermAsync();
        _time.Advance(TimeSpan.FromSeconds(2));
        Report(lifecycle, TimeSpan.FromSeconds(20)); // seen at +2 s; callers let go by +22 s
        _time.Advance(TimeSpan.FromMilliseconds(19_999));
        Assert.False(wait.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        TrafficWaitResult result = await wait.WaitAsync(Safety);

        Assert.Equal(TrafficWaitOutcome.RoutesLetGo, result.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(22), result.Elapsed);
    }

    [Fact]
    public async Task RouteNeverReported_TodaysRuleUnchanged()
    {
        using TestLifecycle lifecycle = CreateRunning();
        Routes(lifecycle).Add("eureka");
        Serve(lifecycle);

        Task<TrafficWaitResult> wait = lifecycle.DrainOnSigTermAsync();
        _time.Advance(TimeSpan.FromMilliseconds(59_999));
        Assert.False(wait.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        TrafficWaitResult result = await wait.WaitAsync(Safety);

        Assert.Equal(TrafficWaitOutcome.MaximumReached, result.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(60), result.Elapsed);
    }

    [Fact]
    public async Task RequestJustBeforeTheMoment_HoldsTheWaitForTheQuietPeriod()
    {
        using TestLifecycle lifecycle = CreateRunning();
        Serve(lifecycle);

        Task<TrafficWaitResult> wait = lifecycle.DrainOnSigTermAsync();
        Report(lifecycle, TimeSpan.FromSeconds(10));
        _time.Advance(TimeSpan.FromMilliseconds(9_900));
        Request(lifecycle); // at +9.9 s: arrivals must agree
        _time.Advance(TimeSpan.FromMilliseconds(249));
        Assert.False(wait.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        TrafficWaitResult result = await wait.WaitAsync(Safety);

        Assert.Equal(TrafficWaitOutcome.RoutesLetGo, result.Outcome);
        Assert.Equal(TimeSpan.FromMilliseconds(10_150), result.Elapsed);
        Assert.Equal(1, result.RequestsDuringWait);
    }

    [Fact]
    public async Task RequestsAfterTheMoment_SomethingElseStillRoutesHere_HoldTheWaitUntilTheSilenceIsConclusive()
    {
        using TestLifecycle lifecycle = CreateRunning();
        Serve(lifecycle);

        Task<TrafficWaitResult> wait = lifecycle.DrainOnSigTermAsync();
        Report(lifecycle, TimeSpan.FromSeconds(10));
        _time.Advance(TimeSpan.FromSeconds(8));
        for (int tick = 1; tick <= 120; tick++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(100));
            Request(lifecycle); // every 100 ms from +8 s to +20 s: something the route does not speak for
        }

        _time.Advance(TimeSpan.FromMilliseconds(250));
        Assert.False(wait.IsCompleted); // the quiet period is not enough after the moment
        TrafficWaitResult result = await AdvanceUntil(wait);

        Assert.Equal(TrafficWaitOutcome.RoutesLetGo, result.Outcome);

        // Ended by the silence the arrival rule finds conclusive after the last request (+20 s), well before Maximum.
        Assert.True(result.ConclusiveSilence > TimeSpan.FromSeconds(1), result.ToString());
        Assert.InRange(result.Elapsed, TimeSpan.FromSeconds(20) + result.ConclusiveSilence, TimeSpan.FromSeconds(59));
    }

    private async Task<TrafficWaitResult> AdvanceUntil(Task<TrafficWaitResult> wait)
    {
        for (int i = 0; i < 600 && !wait.IsCompleted; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(100));
        }

        return await wait.WaitAsync(Safety);
    }

    [Fact]
    public async Task RouteLetGoBeforeMinimum_TheWaitStillLastsMinimum()
    {
        using TestLifecycle lifecycle = CreateRunning();
        Serve(lifecycle);

        Task<TrafficWaitResult> wait = lifecycle.DrainOnSigTermAsync();
        _time.Advance(TimeSpan.FromSeconds(1));
        Report(lifecycle, TimeSpan.FromSeconds(-10)); // already let go (a moment before the drain, even)
        _time.Advance(TimeSpan.FromMilliseconds(3_999));
        Assert.False(wait.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        TrafficWaitResult result = await wait.WaitAsync(Safety);

        Assert.Equal(TrafficWaitOutcome.RoutesLetGo, result.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(5), result.Elapsed);
    }

    [Fact]
    public async Task RouteLaterThanMaximum_NeverLengthensTheWait()
    {
        using TestLifecycle lifecycle = CreateRunning();
        Serve(lifecycle);

        Task<TrafficWaitResult> wait = lifecycle.DrainOnSigTermAsync();
        Report(lifecycle, TimeSpan.FromSeconds(95));
        _time.Advance(TimeSpan.FromSeconds(60));
        TrafficWaitResult result = await wait.WaitAsync(Safety);

        Assert.Equal(TrafficWaitOutcome.MaximumReached, result.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(60), result.Elapsed);
    }

    [Fact]
    public async Task WithACheckerThatLetGoEarlier_TheRouteHoldsUntilItsMoment()
    {
        using TestLifecycle lifecycle = CreateRunning();
        Routes(lifecycle).Add("eureka");
        Serve(lifecycle, HealthCheckerProfile.NoUserAgent);

        Task<TrafficWaitResult> wait = lifecycle.DrainOnSigTermAsync();
        Report(lifecycle, TimeSpan.FromSeconds(12));
        for (int second = 1; second <= 11; second++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            lifecycle.Services.GetRequiredService<HealthCheckerLedger>().Record(HealthCheckerProfile.NoUserAgent, Balancer, _time.GetTimestamp(),
                passed: false); // HAProxy, fall 3: let go at +3 s; alone, it would end the wait at Minimum
        }

        Assert.False(wait.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(1));
        TrafficWaitResult result = await wait.WaitAsync(Safety);

        Assert.Equal(TrafficWaitOutcome.RoutesLetGo, result.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(12), result.Elapsed);
    }

    [Fact]
    public async Task WithACheckerThatHasNotLetGo_TheRouteDoesNotCutItsHold()
    {
        using TestLifecycle lifecycle = CreateRunning();
        Serve(lifecycle, HealthCheckerProfile.NoUserAgent);

        Task<TrafficWaitResult> wait = lifecycle.DrainOnSigTermAsync();
        Report(lifecycle, TimeSpan.FromSeconds(6));
        for (int second = 1; second <= 8; second++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            lifecycle.Services.GetRequiredService<HealthCheckerLedger>().Record(HealthCheckerProfile.NoUserAgent, Balancer, _time.GetTimestamp(),
                passed: second <= 5); // readiness still passed for this checker until +5 s: let go at +8 s (3 failures)
        }

        TrafficWaitResult result = await wait.WaitAsync(Safety);

        Assert.Equal((TrafficWaitOutcome.CheckersLetGo, TimeSpan.FromSeconds(8)), (result.Outcome, result.Elapsed));
    }

    [Fact]
    public async Task OneOfTwoRoutesReported_NoBound()
    {
        using TestLifecycle lifecycle = CreateRunning();
        Routes(lifecycle).Add("eureka");
        Routes(lifecycle).Add("consul");
        Serve(lifecycle);

        Task<TrafficWaitResult> wait = lifecycle.DrainOnSigTermAsync();
        Report(lifecycle, TimeSpan.FromSeconds(10), "eureka");
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.False(wait.IsCompleted);
        Report(lifecycle, TimeSpan.FromSeconds(5), "consul"); // both reported: the later moment, +35 s
        _time.Advance(TimeSpan.FromMilliseconds(4_999));
        Assert.False(wait.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        TrafficWaitResult result = await wait.WaitAsync(Safety);

        Assert.Equal(TrafficWaitOutcome.RoutesLetGo, result.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(35), result.Elapsed);
    }

    [Fact]
    public async Task ReportBeforeTheDrain_IsNoEvidence()
    {
        using TestLifecycle lifecycle = CreateRunning();
        Serve(lifecycle);
        Report(lifecycle, TimeSpan.FromSeconds(1));

        Task<TrafficWaitResult> wait = lifecycle.DrainOnSigTermAsync();
        _time.Advance(TimeSpan.FromSeconds(60));
        TrafficWaitResult result = await wait.WaitAsync(Safety);

        Assert.Equal(TrafficWaitOutcome.MaximumReached, result.Outcome);
    }

    /// <summary>The farthest moment runs the wait to Maximum; the earliest ends it at Minimum: each alone, neither overflows.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ExtremeMoment_DoesNotOverflow(bool farthest)
    {
        (TrafficWaitOutcome outcome, int endsAtSeconds) = farthest ? (TrafficWaitOutcome.MaximumReached, 60) : (TrafficWaitOutcome.RoutesLetGo, 5);
        using TestLifecycle lifecycle = CreateRunning();
        Serve(lifecycle);

        Task<TrafficWaitResult> wait = lifecycle.DrainOnSigTermAsync();
        Routes(lifecycle).LetGoBy("extreme", farthest ? DateTimeOffset.MaxValue : DateTimeOffset.MinValue);
        _time.Advance(TimeSpan.FromSeconds(endsAtSeconds) - TimeSpan.FromMilliseconds(1));
        Assert.False(wait.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        TrafficWaitResult result = await wait.WaitAsync(Safety);

        Assert.Equal((outcome, TimeSpan.FromSeconds(endsAtSeconds)), (result.Outcome, result.Elapsed));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(" ")]
    public void BlankRouteName_IsRejected(string? route)
    {
        using TestLifecycle lifecycle = CreateRunning();

        Assert.ThrowsAny<ArgumentException>(() => Routes(lifecycle).Add(route!));
        Assert.ThrowsAny<ArgumentException>(() => Routes(lifecycle).LetGoBy(route!, _time.GetUtcNow()));
    }
}
