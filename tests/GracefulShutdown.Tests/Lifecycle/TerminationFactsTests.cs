using GracefulShutdown.Diagnostics;
using GracefulShutdown.Endpoints;
using GracefulShutdown.Lifecycle;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace GracefulShutdown.Tests.Lifecycle;

/// <summary>
/// <see cref="ITerminationFacts"/>: what a platform add-on tells the core — the real deadline (the budget in force is fitted
/// to it, a wait in progress ends by the new maximum), the reason, a futile wait, and a readiness hold for the last endpoint.
/// </summary>
public sealed class TerminationFactsTests : IDisposable
{
    private static readonly TimeSpan Safety = TimeSpan.FromSeconds(10);
    private readonly FakeTimeProvider _time = new();
    private readonly TestLifecycle _lifecycle;

    public TerminationFactsTests()
    {
        var options = new GracefulShutdownOptions { TrafficWait = { Minimum = TimeSpan.FromSeconds(5), Maximum = TimeSpan.FromSeconds(15) } };
        _lifecycle = new TestLifecycle(_time, options);
        _ = _lifecycle.TrafficWait;
        _lifecycle.MarkRunning();
        _time.Advance(TimeSpan.FromSeconds(1));
    }

    public void Dispose() => _lifecycle.Dispose();

    private ITerminationFacts Facts => _lifecycle.Services.GetRequiredService<ITerminationFacts>();

    private ShutdownBudgetSource Budget => _lifecycle.Services.GetRequiredService<ShutdownBudgetSource>();

    private ProbeStatus Probes => _lifecycle.Services.GetRequiredService<ProbeStatus>();

    private ShutdownReport Report => _lifecycle.Services.GetRequiredService<ShutdownReport>();

    private Task<TrafficWaitResult> Drain()
    {
        _lifecycle.BeginDrain(DrainTrigger.SigTerm);
        return _lifecycle.TrafficWait.WaitAsync();
    }

    /// <summary>Requests keep arriving (one every 100 ms), so only the maximum could end the wait.</summary>
    private void Busy(TimeSpan duration)
    {
        for (TimeSpan t = TimeSpan.Zero; t < duration; t += TimeSpan.FromMilliseconds(100))
        {
            _lifecycle.Requests.OnRequestStarted();
            _lifecycle.Requests.OnRequestFinished();
            _time.Advance(TimeSpan.FromMilliseconds(100));
        }
    }

    private FakeLogRecord Log(int id) => Assert.Single(_lifecycle.Logs.GetSnapshot(), r => r.Id.Id == id);

    [Fact]
    public async Task DeadlineBeforeTheDrain_EightSeconds_TheWaitEndsByThreeSeconds_FittedBudget_ReportNamesIt()
    {
        Facts.ReportDeadline(_time.GetUtcNow() + TimeSpan.FromSeconds(8), "Kubernetes deletionTimestamp");

        Task<TrafficWaitResult> wait = Drain();
        Busy(TimeSpan.FromSeconds(2.9));
        Assert.False(wait.IsCompleted);
        Busy(TimeSpan.FromSeconds(0.1));
        TrafficWaitResult result = await wait.WaitAsync(Safety);

        Assert.Equal(TrafficWaitOutcome.MaximumReached, result.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(3), result.Elapsed);
        ShutdownBudget budget = Budget.Current;
        Assert.True(budget.IsFitted);
        Assert.Equal(TimeSpan.FromSeconds(7), budget.StopDeadline);
        Assert.Equal(TimeSpan.FromSeconds(3), budget.DrainTimeout);
        Assert.Contains("Kubernetes deletionTimestamp", Log(135).Message, StringComparison.Ordinal);

        Report.Complete();
        FakeLogRecord report = Log(109);
        Assert.Contains("deadline: Kubernetes deletionTimestamp, 8.000 s from the drain's start (configured 30 s)", report.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeadlineDuringTheWait_ItEndsByTheFittedMaximum()
    {
        Task<TrafficWaitResult> wait = Drain();
        DateTimeOffset drainStart = _time.GetUtcNow();
        Busy(TimeSpan.FromSeconds(3));

        // 24 s from the drain's start: the wait keeps 24 − 1 − 10 − 3 = 10 s.
        Facts.ReportDeadline(drainStart + TimeSpan.FromSeconds(24), "Kubernetes deletionTimestamp");
        Busy(TimeSpan.FromSeconds(6.9));
        Assert.False(wait.IsCompleted);
        Busy(TimeSpan.FromSeconds(0.1));

        TrafficWaitResult result = await wait.WaitAsync(Safety);
        Assert.Equal(TrafficWaitOutcome.MaximumReached, result.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(10), result.Elapsed);
    }

    [Fact]
    public async Task DeadlineDuringTheWait_PastTheFittedMaximumAlready_EndsAtOnce()
    {
        Task<TrafficWaitResult> wait = Drain();
        DateTimeOffset drainStart = _time.GetUtcNow();
        Busy(TimeSpan.FromSeconds(12));
        Assert.False(wait.IsCompleted);

        Facts.ReportDeadline(drainStart + TimeSpan.FromSeconds(24), "Kubernetes deletionTimestamp");

        TrafficWaitResult result = await wait.WaitAsync(Safety);
        Assert.Equal(TrafficWaitOutcome.MaximumReached, result.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(12), result.Elapsed);
    }

    [Fact]
    public async Task DeadlineLongerThanConfigured_Unchanged_ReportSaysConfigured()
    {
        Facts.ReportDeadline(_time.GetUtcNow() + TimeSpan.FromSeconds(60), "Kubernetes deletionTimestamp");
        Task<TrafficWaitResult> wait = Drain();
        Busy(TimeSpan.FromSeconds(14.9));
        Assert.False(wait.IsCompleted);
        Busy(TimeSpan.FromSeconds(0.1));

        Assert.Equal(TimeSpan.FromSeconds(15), (await wait.WaitAsync(Safety)).Elapsed);
        Assert.False(Budget.Current.IsFitted);
        Report.Complete();
        Assert.Contains("deadline: configured (30 s; Kubernetes deletionTimestamp leaves 60.000 s)", Log(109).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EarliestDeadlineRules()
    {
        DateTimeOffset now = _time.GetUtcNow();
        Facts.ReportDeadline(now + TimeSpan.FromSeconds(8), "first");
        Facts.ReportDeadline(now + TimeSpan.FromSeconds(20), "later, ignored");

        Assert.Equal(TimeSpan.FromSeconds(8), Budget.Current.TerminationGracePeriod);
    }

    [Fact]
    public async Task SkipDuringTheWait_EndsItAtOnce_Logged()
    {
        Task<TrafficWaitResult> wait = Drain();
        Busy(TimeSpan.FromSeconds(2));
        Assert.False(wait.IsCompleted);

        Facts.SkipTrafficWait("graceful node shutdown: endpoints are not updated");

        TrafficWaitResult result = await wait.WaitAsync(Safety);
        Assert.Equal(TrafficWaitOutcome.SkippedByPlatform, result.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(2), result.Elapsed);
        Assert.Contains("graceful node shutdown", Log(132).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SkipBeforeTheDrain_TheWaitEndsAsItStarts()
    {
        Facts.SkipTrafficWait("graceful node shutdown");

        TrafficWaitResult result = await Drain().WaitAsync(Safety);

        Assert.Equal(TrafficWaitOutcome.SkippedByPlatform, result.Outcome);
        Assert.Equal(TimeSpan.Zero, result.Elapsed);
    }

    [Fact]
    public void ReasonKnownAtTheDrain_InTheDrainStartLine_AndTheReport()
    {
        Facts.ReportReason("EvictionByEvictionAPI", "Eviction API: evicting");

        _lifecycle.BeginDrain(DrainTrigger.SigTerm);
        Report.Complete();

        Assert.EndsWith("Reason: EvictionByEvictionAPI: Eviction API: evicting.", Log(100).Message, StringComparison.Ordinal);
        Assert.Contains("platform: reason: EvictionByEvictionAPI: Eviction API: evicting", Log(109).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NoReason_TheDrainStartLineIsAsBefore()
    {
        _lifecycle.BeginDrain(DrainTrigger.SigTerm);

        Assert.EndsWith("requests in flight.", Log(100).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hold_ReadinessPasses_TheWaitDoesNotEnd_Release_ReadinessFails_TheWaitRunsFromThen()
    {
        IDisposable hold = Facts.HoldReadiness("last ready endpoint of Service web");
        for (int second = 0; second < 600; second++)
        {
            _time.Advance(TimeSpan.FromSeconds(1)); // ten idle minutes (TrafficWaitTests.IdleService_NoRequestFor10Minutes_EndsAtMinimum)
        }

        Task<TrafficWaitResult> wait = Drain();

        // No traffic at all: without the hold the wait would end as Idle at the 5 s minimum and readiness would fail at once.
        _time.Advance(TimeSpan.FromSeconds(6));
        Assert.False(wait.IsCompleted);
        Assert.True(Probes.StatePasses(GracefulShutdownProbe.Readiness));
        Assert.False(Probes.ReadinessLost.IsCancellationRequested);

        hold.Dispose();
        Assert.False(Probes.StatePasses(GracefulShutdownProbe.Readiness));
        Assert.True(Probes.ReadinessLost.IsCancellationRequested);

        // The minimum counts from the release.
        _time.Advance(TimeSpan.FromMilliseconds(4999));
        Assert.False(wait.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        TrafficWaitResult result = await wait.WaitAsync(Safety);
        Assert.Equal(TrafficWaitOutcome.Idle, result.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(11), result.Elapsed);
        hold.Dispose(); // twice: harmless
    }

    [Fact]
    public async Task HeldThroughout_TheMaximumEndsTheWait_AndReadinessFailsWithIt()
    {
        using IDisposable hold = Facts.HoldReadiness("last ready endpoint");
        Task<TrafficWaitResult> wait = Drain();

        _time.Advance(TimeSpan.FromMilliseconds(14999));
        Assert.False(wait.IsCompleted);
        Assert.True(Probes.StatePasses(GracefulShutdownProbe.Readiness));
        _time.Advance(TimeSpan.FromMilliseconds(1));

        TrafficWaitResult result = await wait.WaitAsync(Safety);
        Assert.Equal(TrafficWaitOutcome.MaximumReached, result.Outcome);
        Assert.False(Probes.StatePasses(GracefulShutdownProbe.Readiness));
    }

    [Fact]
    public void HoldTakenWhileTheFailureDelayRuns_TheDelayDoesNotEndIt()
    {
        var options = new GracefulShutdownOptions { Endpoints = { ReadinessFailureDelay = TimeSpan.FromSeconds(2) } };
        using var lifecycle = new TestLifecycle(_time, options);
        _ = lifecycle.TrafficWait;
        lifecycle.MarkRunning();
        var probes = lifecycle.Services.GetRequiredService<ProbeStatus>();
        lifecycle.BeginDrain(DrainTrigger.SigTerm);

        // The last other endpoint went away during the delay.
        _time.Advance(TimeSpan.FromSeconds(1));
        IDisposable hold = lifecycle.Services.GetRequiredService<ITerminationFacts>().HoldReadiness("last ready endpoint");
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.True(probes.StatePasses(GracefulShutdownProbe.Readiness));
        Assert.False(probes.ReadinessLost.IsCancellationRequested);

        hold.Dispose();
        Assert.False(probes.StatePasses(GracefulShutdownProbe.Readiness));
        Assert.True(probes.ReadinessLost.IsCancellationRequested);
    }

    [Fact]
    public void TwoHolds_ReadinessFailsOnlyWhenBothAreReleased()
    {
        IDisposable first = Facts.HoldReadiness("a");
        IDisposable second = Facts.HoldReadiness("b");
        _lifecycle.BeginDrain(DrainTrigger.SigTerm);

        first.Dispose();
        Assert.True(Probes.StatePasses(GracefulShutdownProbe.Readiness));
        second.Dispose();
        Assert.False(Probes.StatePasses(GracefulShutdownProbe.Readiness));
    }

    [Fact]
    public void HoldAfterReadinessFailed_DoesNotBringItBack()
    {
        _lifecycle.BeginDrain(DrainTrigger.SigTerm);
        Assert.True(Probes.ReadinessLost.IsCancellationRequested);

        using IDisposable hold = Facts.HoldReadiness("too late");

        Assert.False(Probes.StatePasses(GracefulShutdownProbe.Readiness));
    }

    [Fact]
    public void NotDraining_HoldChangesNothing()
    {
        using IDisposable hold = Facts.HoldReadiness("last ready endpoint");

        Assert.True(Probes.StatePasses(GracefulShutdownProbe.Readiness));
        Assert.Equal(GracefulShutdownPhase.Running, _lifecycle.Phase);
    }

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    public void EmptyArguments_Throw(string? value)
    {
        Assert.ThrowsAny<ArgumentException>(() => Facts.ReportDeadline(_time.GetUtcNow(), value!));
        Assert.ThrowsAny<ArgumentException>(() => Facts.ReportReason(value!, null));
        Assert.ThrowsAny<ArgumentException>(() => Facts.SkipTrafficWait(value!));
        Assert.ThrowsAny<ArgumentException>(() => Facts.HoldReadiness(value!));
    }
}
