using System.Runtime.InteropServices;
using GracefulShutdown.Lifecycle;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace GracefulShutdown.Tests.Lifecycle;

public sealed class LifecycleTests
{
    private static readonly TimeSpan Safety = TimeSpan.FromSeconds(10);
    private readonly FakeTimeProvider _time = new();
    private readonly GracefulShutdownOptions _options = new()
    {
        TrafficWait = { Minimum = TimeSpan.FromSeconds(5), QuietPeriod = TimeSpan.FromSeconds(2), Maximum = TimeSpan.FromSeconds(15) },
    };

    private TestLifecycle Create(bool kubernetes = false) => new(_time, _options, kubernetes);

    private TestLifecycle CreateRunning(bool kubernetes = false)
    {
        TestLifecycle lifecycle = Create(kubernetes);
        lifecycle.MarkRunning();
        return lifecycle;
    }

    [Fact]
    public void Phase_BeforeHostStartedAndGatesCompleted_IsStarting()
    {
        using TestLifecycle lifecycle = Create();
        lifecycle.State.MarkHostStarted();

        Assert.Equal(GracefulShutdownPhase.Starting, lifecycle.Phase);
        Assert.False(lifecycle.State.WhenReady.IsCompleted);

        lifecycle.State.MarkStartupWorkDone(0);

        Assert.Equal(GracefulShutdownPhase.Running, lifecycle.Phase);
        Assert.True(lifecycle.State.WhenReady.IsCompletedSuccessfully);
    }

    [Fact]
    public void BeginDrain_BeforeReady_CancelsWhenReady()
    {
        using TestLifecycle lifecycle = Create();

        Assert.True(lifecycle.BeginDrain(DrainTrigger.SigTerm));

        Assert.True(lifecycle.State.WhenReady.IsCanceled);
        Assert.Equal(GracefulShutdownPhase.Draining, lifecycle.Phase);
    }

    [Fact]
    public async Task BeginDrain_Twice_FirstTriggerWinsAndDrainStartedFiresOnce()
    {
        using TestLifecycle lifecycle = CreateRunning();
        var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int count = 0;
        lifecycle.State.DrainStarted.Register(() => { Interlocked.Increment(ref count); fired.TrySetResult(); });

        Assert.True(lifecycle.BeginDrain(DrainTrigger.PreStop));
        Assert.False(lifecycle.BeginDrain(DrainTrigger.SigTerm));
        await fired.Task.WaitAsync(Safety);

        Assert.Equal(DrainTrigger.PreStop, lifecycle.State.Trigger);
        Assert.Equal(1, count);
        Assert.Single(lifecycle.Logs.GetSnapshot(), r => r.Id.Id == 100);
    }

    [Fact]
    public void WaitForTrafficToLeave_BeforeDrain_Throws()
    {
        using TestLifecycle lifecycle = CreateRunning();

        Assert.Throws<InvalidOperationException>(() => { _ = lifecycle.TrafficWait.WaitAsync(); });
    }

    [Fact]
    public async Task TrafficWait_NeverReady_IsSkipped()
    {
        using TestLifecycle lifecycle = Create();
        lifecycle.BeginDrain(DrainTrigger.SignalDuringStartup);

        TrafficWaitResult result = await lifecycle.TrafficWait.WaitAsync().WaitAsync(Safety);

        Assert.Equal(TrafficWaitOutcome.SkippedNeverReady, result.Outcome);
    }

    [Fact]
    public void OnRequestStarted_CountsInFlightAndReportsDraining()
    {
        using TestLifecycle lifecycle = CreateRunning();

        Assert.False(lifecycle.Requests.OnRequestStarted());
        Assert.False(lifecycle.Requests.OnRequestStarted());
        lifecycle.Requests.OnRequestFinished();
        Assert.Equal(1, lifecycle.Requests.InFlight);

        lifecycle.BeginDrain(DrainTrigger.PreStop);

        Assert.True(lifecycle.Requests.OnRequestStarted());
        Assert.Equal(2, lifecycle.Requests.InFlight);
    }

    [Fact]
    public void DrainDeadline_FiresDrainTimeoutMinusLeadAfterStopping()
    {
        _options.DrainTimeout = TimeSpan.FromSeconds(10);
        _options.DrainCancellationLead = TimeSpan.FromSeconds(2);
        using TestLifecycle lifecycle = CreateRunning();
        lifecycle.BeginDrain(DrainTrigger.SigTerm);
        lifecycle.State.EnterStopping(_options.DrainTimeout - _options.DrainCancellationLead);

        _time.Advance(TimeSpan.FromMilliseconds(7999));
        Assert.False(lifecycle.State.DrainDeadline.IsCancellationRequested);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.True(lifecycle.State.DrainDeadline.IsCancellationRequested);
        Assert.Equal(GracefulShutdownPhase.Stopping, lifecycle.Phase);
    }

    [Fact]
    public async Task Metrics_RecordRequestsWhileDrainingAndTrafficWait()
    {
        _options.TrafficWait.Maximum = _options.TrafficWait.Minimum;
        using TestLifecycle lifecycle = CreateRunning();
        using var requests = lifecycle.Collect<long>("graceful_shutdown.drain.requests");
        using var wait = lifecycle.Collect<double>("graceful_shutdown.traffic_wait.duration");

        lifecycle.Requests.OnRequestStarted();
        lifecycle.BeginDrain(DrainTrigger.SigTerm);
        lifecycle.Requests.OnRequestStarted();
        lifecycle.Requests.OnRequestStarted();
        Task<TrafficWaitResult> waiting = lifecycle.TrafficWait.WaitAsync();
        _time.Advance(TimeSpan.FromSeconds(5));
        await waiting.WaitAsync(Safety);

        Assert.Equal(2, requests.GetMeasurementSnapshot().EvaluateAsCounter());
        CollectedMeasurement<double> measurement = Assert.Single(wait.GetMeasurementSnapshot());
        Assert.Equal(5, measurement.Value);
        Assert.Equal("MaximumReached", measurement.Tags["outcome"]);
        Assert.Equal("s", wait.Instrument!.Unit);
    }
}
