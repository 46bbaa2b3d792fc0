using GracefulShutdown.Lifecycle;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace GracefulShutdown.Tests.Lifecycle;

/// <summary>The traffic wait reads the arrivals before the drain and during it as evidence (docs/traffic-wait.md).</summary>
public sealed class TrafficWaitTests
{
    private static readonly TimeSpan Safety = TimeSpan.FromSeconds(10);
    private readonly FakeTimeProvider _time = new();
    private readonly GracefulShutdownOptions _options = new()
    {
        TrafficWait = { Minimum = TimeSpan.FromSeconds(5), QuietPeriod = TimeSpan.FromMilliseconds(250), Maximum = TimeSpan.FromSeconds(15) },
    };

    private TestLifecycle CreateRunning() => TestLifecycle.StartTrafficHistory(_time, _options);

    /// <summary>Serves <paramref name="seconds"/> seconds of traffic: request i of second s arrives when <paramref name="arrives"/> says so.</summary>
    private void Serve(TestLifecycle lifecycle, int seconds, Func<int, int> requestsInSecond)
    {
        for (int second = 0; second < seconds; second++)
        {
            for (int i = requestsInSecond(second); i > 0; i--)
            {
                lifecycle.Requests.OnRequestStarted();
                lifecycle.Requests.OnRequestFinished();
            }

            _time.Advance(TimeSpan.FromSeconds(1));
        }
    }

    [Fact]
    public async Task BusyService_TrafficStopsWithTheDrain_EndsAtMinimum()
    {
        using TestLifecycle lifecycle = CreateRunning();
        Serve(lifecycle, 60, _ => 300);

        Task<TrafficWaitResult> wait = lifecycle.DrainOnSigTermAsync();
        _time.Advance(TimeSpan.FromMilliseconds(4999));
        Assert.False(wait.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        TrafficWaitResult result = await wait.WaitAsync(Safety);

        Assert.Equal(TrafficWaitOutcome.Quiet, result.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(5), result.Elapsed);
        Assert.InRange(result.LowerRate, 290, 300); // 18 000 requests in 60 s
        Assert.Equal(_options.TrafficWait.QuietPeriod, result.ConclusiveSilence); // ln(1000)/296 = 23 ms, floored
    }

    [Fact]
    public async Task BusyService_BalancerRoutesUntil8s_EndsOneQuietPeriodAfterTheLastRequest()
    {
        using TestLifecycle lifecycle = CreateRunning();
        Serve(lifecycle, 60, _ => 300);
        Task<TrafficWaitResult> wait = lifecycle.DrainOnSigTermAsync();

        // The balancer keeps routing here for 8 s (one request every 10 ms), then stops.
        for (int tick = 0; tick < 800; tick++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(10));
            Assert.True(lifecycle.Requests.OnRequestStarted());
            lifecycle.Requests.OnRequestFinished();
        }

        _time.Advance(TimeSpan.FromMilliseconds(249));
        Assert.False(wait.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        TrafficWaitResult result = await wait.WaitAsync(Safety);

        Assert.Equal(TrafficWaitOutcome.Quiet, result.Outcome);
        Assert.Equal(TimeSpan.FromMilliseconds(8250), result.Elapsed);
        Assert.Equal(800, result.RequestsDuringWait);
    }

    [Fact]
    public async Task SparseCaller_OneRequestPer5s_SilenceIsNotEvidence_WaitsForMaximum()
    {
        using TestLifecycle lifecycle = CreateRunning();
        Serve(lifecycle, 60, second => second % 5 == 0 ? 1 : 0);

        Task<TrafficWaitResult> wait = lifecycle.DrainOnSigTermAsync();
        _time.Advance(TimeSpan.FromSeconds(14));
        Assert.False(wait.IsCompleted); // 14 s of silence: at one request per 5 s that is not conclusive
        _time.Advance(TimeSpan.FromSeconds(1));
        TrafficWaitResult result = await wait.WaitAsync(Safety);

        Assert.Equal(TrafficWaitOutcome.MaximumReached, result.Outcome);
        Assert.Equal(12, result.Before.RecentRequests);
        Assert.True(result.ConclusiveSilence > TimeSpan.FromSeconds(15), $"conclusive silence {result.ConclusiveSilence}");
    }

    [Fact]
    public async Task IdleService_NoRequestFor10Minutes_EndsAtMinimum()
    {
        using TestLifecycle lifecycle = CreateRunning();
        Serve(lifecycle, 600, _ => 0);

        Task<TrafficWaitResult> wait = lifecycle.DrainOnSigTermAsync();
        _time.Advance(TimeSpan.FromMilliseconds(4999));
        Assert.False(wait.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        TrafficWaitResult result = await wait.WaitAsync(Safety);

        Assert.Equal(TrafficWaitOutcome.Idle, result.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(5), result.Elapsed);
    }

    [Fact]
    public async Task YoungReplica_NoRequestIn10s_DoesNotMistakeAShortHistoryForIdleness()
    {
        using TestLifecycle lifecycle = CreateRunning();
        Serve(lifecycle, 10, _ => 0);

        Task<TrafficWaitResult> wait = lifecycle.DrainOnSigTermAsync();
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.False(wait.IsCompleted); // 95 % bound after 20 s of nothing: 0.15 requests/s, 0.75 expected before the maximum

        _time.Advance(TimeSpan.FromSeconds(5));
        TrafficWaitResult result = await wait.WaitAsync(Safety);
        Assert.NotEqual(TrafficWaitOutcome.Quiet, result.Outcome);
        Assert.InRange(result.Elapsed, TimeSpan.FromSeconds(14), TimeSpan.FromSeconds(15));
    }

    [Fact]
    public async Task RateDroppedWithinTheWindow_TheRecentRateDecides()
    {
        _options.TrafficWait.RateWindow = TimeSpan.FromSeconds(30);
        using TestLifecycle lifecycle = CreateRunning();
        Serve(lifecycle, 300, _ => 100); // busy for five minutes…
        Serve(lifecycle, 30, second => second % 5 == 0 ? 1 : 0); // …then one request per 5 s in the last 30 s

        Task<TrafficWaitResult> wait = lifecycle.DrainOnSigTermAsync();
        _time.Advance(TimeSpan.FromSeconds(10));

        Assert.False(wait.IsCompleted);
        Assert.Equal(6, (await WaitToEnd(wait)).Before.RecentRequests);
    }

    [Fact]
    public async Task RequestsDuringTheWait_RestartTheSilence()
    {
        using TestLifecycle lifecycle = CreateRunning();
        Serve(lifecycle, 60, _ => 10); // 10 requests/s: about 0.7 s of silence is conclusive

        Task<TrafficWaitResult> wait = lifecycle.DrainOnSigTermAsync();
        for (int tick = 0; tick < 60; tick++) // a balancer still routes here for 6 s
        {
            _time.Advance(TimeSpan.FromMilliseconds(100));
            lifecycle.Requests.OnRequestStarted();
            lifecycle.Requests.OnRequestFinished();
        }

        _time.Advance(TimeSpan.FromMilliseconds(600));
        Assert.False(wait.IsCompleted);

        TrafficWaitResult result = await WaitToEnd(wait);
        Assert.Equal(TrafficWaitOutcome.Quiet, result.Outcome);
        Assert.Equal(6 + result.ConclusiveSilence.TotalSeconds, result.Elapsed.TotalSeconds, 0.001);
        Assert.InRange(result.ConclusiveSilence, TimeSpan.FromSeconds(0.7), TimeSpan.FromSeconds(0.8));
    }

    [Fact]
    public async Task TrafficNeverStops_EndsAtMaximumAndWarns()
    {
        using TestLifecycle lifecycle = CreateRunning();
        Serve(lifecycle, 60, _ => 2);
        Task<TrafficWaitResult> wait = lifecycle.DrainOnSigTermAsync();

        for (int i = 0; i < 30 && !wait.IsCompleted; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(500));
            lifecycle.Requests.OnRequestStarted();
            lifecycle.Requests.OnRequestFinished();
        }

        TrafficWaitResult result = await wait.WaitAsync(Safety);

        Assert.Equal(TrafficWaitOutcome.MaximumReached, result.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(15), result.Elapsed);
        FakeLogRecord warning = Assert.Single(lifecycle.Logs.GetSnapshot(), r => r.Id.Id == 107);
        Assert.Equal("00:00:15", warning.GetStructuredStateValue("Maximum"));
    }

    [Theory]
    [InlineData(24)]
    [InlineData(3)]
    public async Task QuietForHoursThenBusy_RequestsDuringTheWait_NeverEndItAsIdle(int quietHours)
    {
        using TestLifecycle lifecycle = CreateRunning();
        Serve(lifecycle, quietHours * 3600, _ => 0); // a tiny rate over the whole history…
        Serve(lifecycle, 60, _ => 3); // …but 3 requests/s over the last minute
        Task<TrafficWaitResult> wait = lifecycle.DrainOnSigTermAsync();

        for (int i = 0; i < 37 && !wait.IsCompleted; i++) // a balancer still routes here: one request every 400 ms, to 14.8 s
        {
            _time.Advance(TimeSpan.FromMilliseconds(400));
            lifecycle.Requests.OnRequestStarted();
            lifecycle.Requests.OnRequestFinished();
        }

        _time.Advance(TimeSpan.FromMilliseconds(200));
        TrafficWaitResult result = await wait.WaitAsync(Safety);

        Assert.True(result.Outcome == TrafficWaitOutcome.MaximumReached,
            $"{result.Outcome} after {result.Elapsed.TotalSeconds} s with {result.RequestsDuringWait} requests already arrived during the wait");
        Assert.Equal(TimeSpan.FromSeconds(15), result.Elapsed);
        Assert.Single(lifecycle.Logs.GetSnapshot(), r => r.Id.Id == 107);
    }

    [Fact]
    public async Task QuietForHoursThenBusy_TrafficStopsDuringTheWait_EndsQuietOnceTheSilenceIsConclusive()
    {
        using TestLifecycle lifecycle = CreateRunning();
        Serve(lifecycle, 24 * 3600, _ => 0);
        Serve(lifecycle, 60, _ => 3);
        Task<TrafficWaitResult> wait = lifecycle.DrainOnSigTermAsync();

        for (int i = 0; i < 15; i++) // one request every 400 ms for 6 s, then the balancer stops
        {
            _time.Advance(TimeSpan.FromMilliseconds(400));
            lifecycle.Requests.OnRequestStarted();
            lifecycle.Requests.OnRequestFinished();
        }

        TrafficWaitResult result = await WaitToEnd(wait);

        Assert.True(result.Outcome == TrafficWaitOutcome.Quiet, $"{result.Outcome} after {result.Elapsed.TotalSeconds} s");
        Assert.Equal(6 + result.ConclusiveSilence.TotalSeconds, result.Elapsed.TotalSeconds, 0.001);
        Assert.InRange(result.ConclusiveSilence, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(3)); // ln(1000) / 2.6 per second
    }

    [Fact]
    public async Task QuietForHours_ARequestInTheRecentWindow_IsNotIdle()
    {
        using TestLifecycle lifecycle = CreateRunning();
        Serve(lifecycle, 24 * 3600, _ => 0);
        Serve(lifecycle, 60, second => second == 30 ? 1 : 0); // a caller was here 30 s before the drain
        Task<TrafficWaitResult> wait = lifecycle.DrainOnSigTermAsync();

        TrafficWaitResult result = await WaitToEnd(wait);
        Assert.True(result.Outcome == TrafficWaitOutcome.MaximumReached, $"{result.Outcome} after {result.Elapsed.TotalSeconds} s");
        Assert.Equal(TimeSpan.FromSeconds(15), result.Elapsed);
    }

    [Fact]
    public async Task BusyService_ALaggingBalancerStillSends2PerSecond_TheRateDuringTheWaitDecides()
    {
        using TestLifecycle lifecycle = CreateRunning();
        Serve(lifecycle, 60, _ => 300);
        Task<TrafficWaitResult> wait = lifecycle.DrainOnSigTermAsync();

        for (int i = 0; i < 40 && !wait.IsCompleted; i++) // far fewer than 300/s: one balancer still routes here
        {
            _time.Advance(TimeSpan.FromMilliseconds(500));
            lifecycle.Requests.OnRequestStarted();
            lifecycle.Requests.OnRequestFinished();
        }

        TrafficWaitResult result = await wait.WaitAsync(Safety);

        Assert.True(result.Outcome == TrafficWaitOutcome.MaximumReached,
            $"{result.Outcome} after {result.Elapsed.TotalSeconds} s with {result.RequestsDuringWait} requests already arrived during the wait");
        Assert.Single(lifecycle.Logs.GetSnapshot(), r => r.Id.Id == 107);
    }

    [Fact]
    public async Task WaitEndedLog_NamesTheCountsTheRateCameFrom()
    {
        _options.TrafficWait.Maximum = TimeSpan.FromSeconds(6);
        using TestLifecycle lifecycle = CreateRunning();
        _time.Advance(TimeSpan.FromMilliseconds(700)); // 0.7 s of history, no request
        Task<TrafficWaitResult> wait = lifecycle.DrainOnSigTermAsync();

        for (int i = 0; i < 26; i++) // 26 requests during the wait, the last at 5.98 s
        {
            _time.Advance(TimeSpan.FromMilliseconds(230));
            lifecycle.Requests.OnRequestStarted();
            lifecycle.Requests.OnRequestFinished();
        }

        TrafficWaitResult result = await WaitToEnd(wait);

        FakeLogRecord record = Assert.Single(lifecycle.Logs.GetSnapshot(), r => r.Id.Id == 102);
        Assert.DoesNotContain("before the drain ≥", record.Message, StringComparison.Ordinal);
        Assert.Contains(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"≥ {result.LowerRate:0.###}/s (95 % lower bound from 26 requests in 6.68 s"), record.Message, StringComparison.Ordinal);
        Assert.Contains("0 requests in the 0.7 s before the drain", record.Message, StringComparison.Ordinal);
        Assert.Equal("Traffic wait ended (MaximumReached) after 6.000 s; 26 requests arrived during the wait. Arrival rate ≥ 2.727/s " +
            "(95 % lower bound from 26 requests in 6.68 s; 0 requests in the 0.7 s before the drain); conclusive silence: 2.533 s.", record.Message);
        Assert.Equal("26", record.GetStructuredStateValue("RateRequests"));
        Assert.Equal("0", record.GetStructuredStateValue("RecentRequests"));
        Assert.Equal("26", record.GetStructuredStateValue("RequestCount"));
    }

    [Fact]
    public async Task CalledRepeatedly_IsOneSharedWait()
    {
        _options.TrafficWait.Maximum = _options.TrafficWait.Minimum;
        using TestLifecycle lifecycle = CreateRunning();
        Task first = lifecycle.Shutdown.DrainAsync();
        Task second = lifecycle.Shutdown.DrainAsync();
        Task<TrafficWaitResult> third = lifecycle.TrafficWait.WaitAsync();

        _time.Advance(TimeSpan.FromSeconds(5));
        await Task.WhenAll(first, second, third).WaitAsync(Safety);

        Assert.Same(third, lifecycle.TrafficWait.WaitAsync());
        Assert.Single(lifecycle.Logs.GetSnapshot(), r => r.Id.Id == 102);
        Assert.Equal(DrainTrigger.DrainAsync, lifecycle.State.Trigger);
    }

    [Fact]
    public async Task LateCallers_AreReportedByAddressWithTheirLastArrival()
    {
        _options.TrafficWait.Maximum = _options.TrafficWait.Minimum;
        using TestLifecycle lifecycle = CreateRunning();
        Task<TrafficWaitResult> wait = lifecycle.DrainOnSigTermAsync();
        using var lastArrival = lifecycle.Collect<double>("graceful_shutdown.traffic_wait.last_arrival");

        for (int i = 0; i < 3; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            lifecycle.Requests.OnRequestStarted();
            lifecycle.Requests.RecordLateCaller(System.Net.IPAddress.Parse("10.1.4.7"));
        }

        lifecycle.Requests.OnRequestStarted();
        lifecycle.Requests.RecordLateCaller(System.Net.IPAddress.Parse("::ffff:10.1.4.9"));
        _time.Advance(TimeSpan.FromSeconds(2));
        await wait.WaitAsync(Safety);

        FakeLogRecord record = Assert.Single(lifecycle.Logs.GetSnapshot(), r => r.Id.Id == 108);
        Assert.Equal("10.1.4.7: 3 requests, last at +3.000 s; 10.1.4.9: 1 requests, last at +3.000 s",
            record.GetStructuredStateValue("Callers"));
        Assert.Equal([3.0, 3.0], lastArrival.GetMeasurementSnapshot().Select(m => m.Value));
    }

    [Theory]
    [InlineData(0, 10, 0.2996, 0)]
    [InlineData(0, 600, 0.004993, 0)]
    [InlineData(12, 60, 0.3241, 0.1154)]
    [InlineData(18000, 60, 303.7, 296.3)]
    public void Bounds_MatchTheChiSquareValues(long requests, double seconds, double upper, double lower)
    {
        Assert.Equal(upper, TrafficEvidence.UpperRate(requests, seconds), upper * 0.01);
        Assert.Equal(lower, TrafficEvidence.LowerRate(requests, seconds), Math.Max(lower * 0.01, 1e-9));
    }

    [Fact]
    public void RateBounds_AreOfThePresent_OlderEvidenceJoinsOnlyWhereItDoesNotContradictIt()
    {
        // An empty present: the whole history's longer silence may tighten the upper bound (an idle replica ends at Minimum).
        Assert.Equal(TrafficEvidence.UpperRate(0, 605), TrafficEvidence.PresentUpperRate(new(0, 60, 0, 600), 0, 5), 1e-12);

        // Busy now after a day of nothing: the day must not make the last minute's 180 requests look idle.
        Assert.Equal(TrafficEvidence.UpperRate(180, 65), TrafficEvidence.PresentUpperRate(new(180, 60, 180, 86_460), 0, 5), 1e-12);

        // Nothing before the drain, 20 requests in the first 2 s of the wait: the rate rose, the wait's alone bounds it.
        Assert.Equal(TrafficEvidence.UpperRate(20, 2), TrafficEvidence.PresentUpperRate(new(0, 60, 0, 600), 20, 2), 1e-12);

        // The wait's requests agree with the window: pooled. Far fewer than the window's rate: the wait's alone.
        Assert.Equal(new RateBasis(660, 66), TrafficEvidence.LowerRateBasis(new(600, 60, 600, 60), 60, 6));
        Assert.Equal(new RateBasis(9, 4.5), TrafficEvidence.LowerRateBasis(new(18_000, 60, 18_000, 60), 9, 4.5));
    }

    [Theory]
    [InlineData(300, 0.023)]
    [InlineData(10, 0.691)]
    [InlineData(0.2, 34.539)]
    public void ConclusiveSilence_IsLn1000OverTheRate(double rate, double seconds)
    {
        Assert.Equal(seconds, TrafficEvidence.ConclusiveSilence(rate, 0.999).TotalSeconds, 0.001);
        Assert.Equal(TimeSpan.MaxValue, TrafficEvidence.ConclusiveSilence(0, 0.999));
    }

    private async Task<TrafficWaitResult> WaitToEnd(Task<TrafficWaitResult> wait)
    {
        for (int i = 0; i < 20_000 && !wait.IsCompleted; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(1));
        }

        return await wait.WaitAsync(Safety);
    }
}
