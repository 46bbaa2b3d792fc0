using System.Runtime.InteropServices;
using GracefulShutdown.Internal;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace GracefulShutdown.Tests.Internal;

public sealed class ShutdownCoordinatorTests : IDisposable
{
    private static readonly TimeSpan Safety = TimeSpan.FromSeconds(10);
    private readonly FakeTimeProvider _time = new();
    private readonly FakeLogger<ShutdownCoordinator> _logger = new();
    private readonly TestMeterFactory _meters = new();
    private readonly GracefulShutdownOptions _options = new()
    {
        TrafficWait = { Minimum = TimeSpan.FromSeconds(5), QuietPeriod = TimeSpan.FromSeconds(2), Maximum = TimeSpan.FromSeconds(15) },
    };

    private ShutdownCoordinator Create(bool kubernetes = false) =>
        new(Options.Create(_options), _time, _logger, _meters, new KubernetesEnvironment(kubernetes));

    private ShutdownCoordinator CreateRunning(bool kubernetes = false)
    {
        ShutdownCoordinator coordinator = Create(kubernetes);
        coordinator.MarkHostStarted();
        coordinator.MarkGatesCompleted();
        return coordinator;
    }

    public void Dispose() => _meters.Dispose();

    [Fact]
    public void Phase_BeforeHostStartedAndGatesCompleted_IsStarting()
    {
        ShutdownCoordinator coordinator = Create();
        coordinator.MarkHostStarted();

        Assert.Equal(GracefulShutdownPhase.Starting, coordinator.Phase);
        Assert.False(coordinator.WhenReady.IsCompleted);

        coordinator.MarkGatesCompleted();

        Assert.Equal(GracefulShutdownPhase.Running, coordinator.Phase);
        Assert.True(coordinator.WhenReady.IsCompletedSuccessfully);
    }

    [Fact]
    public void BeginDrain_BeforeReady_CancelsWhenReady()
    {
        ShutdownCoordinator coordinator = Create();

        Assert.True(coordinator.BeginDrain(DrainTrigger.SigTerm));

        Assert.True(coordinator.WhenReady.IsCanceled);
        Assert.Equal(GracefulShutdownPhase.Draining, coordinator.Phase);
    }

    [Fact]
    public async Task BeginDrain_Twice_FirstTriggerWinsAndDrainStartedFiresOnce()
    {
        ShutdownCoordinator coordinator = CreateRunning();
        var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int count = 0;
        coordinator.DrainStarted.Register(() => { Interlocked.Increment(ref count); fired.TrySetResult(); });

        Assert.True(coordinator.BeginDrain(DrainTrigger.PreStop));
        Assert.False(coordinator.BeginDrain(DrainTrigger.SigTerm));
        await fired.Task.WaitAsync(Safety);

        Assert.Equal(DrainTrigger.PreStop, coordinator.Trigger);
        Assert.Equal(1, count);
        Assert.Single(_logger.Collector.GetSnapshot(), r => r.Id.Id == 100);
    }

    [Fact]
    public void WaitForTrafficToLeave_BeforeDrain_Throws()
    {
        ShutdownCoordinator coordinator = CreateRunning();

        Assert.Throws<InvalidOperationException>(() => { _ = coordinator.WaitForTrafficToLeaveAsync(); });
    }

    [Fact]
    public async Task TrafficWait_NoTraffic_EndsQuietAtMinimum()
    {
        ShutdownCoordinator coordinator = CreateRunning();
        coordinator.BeginDrain(DrainTrigger.SigTerm);
        Task<TrafficWaitResult> wait = coordinator.WaitForTrafficToLeaveAsync();

        _time.Advance(TimeSpan.FromMilliseconds(4999));
        Assert.False(wait.IsCompleted);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        TrafficWaitResult result = await wait.WaitAsync(Safety);

        Assert.Equal(TrafficWaitOutcome.Quiet, result.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(5), result.Elapsed);
        Assert.Equal(0, result.RequestsDuringWait);
        Assert.DoesNotContain(_logger.Collector.GetSnapshot(), r => r.Id.Id == 107);
    }

    [Fact]
    public async Task TrafficWait_TrafficStopsAfterMinimum_EndsOneQuietPeriodAfterLastRequest()
    {
        ShutdownCoordinator coordinator = CreateRunning();
        coordinator.BeginDrain(DrainTrigger.SigTerm);
        Task<TrafficWaitResult> wait = coordinator.WaitForTrafficToLeaveAsync();

        // Requests keep arriving every second until t = 7 s.
        for (int second = 1; second <= 7; second++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            Assert.True(coordinator.OnRequestStarted());
            coordinator.OnRequestFinished();
        }

        _time.Advance(TimeSpan.FromMilliseconds(1999));
        Assert.False(wait.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        TrafficWaitResult result = await wait.WaitAsync(Safety);

        Assert.Equal(TrafficWaitOutcome.Quiet, result.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(9), result.Elapsed);
        Assert.Equal(7, result.RequestsDuringWait);
    }

    [Fact]
    public async Task TrafficWait_TrafficNeverStops_EndsAtMaximum()
    {
        ShutdownCoordinator coordinator = CreateRunning();
        coordinator.BeginDrain(DrainTrigger.SigTerm);
        Task<TrafficWaitResult> wait = coordinator.WaitForTrafficToLeaveAsync();

        for (int i = 0; i < 29 && !wait.IsCompleted; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(500));
            coordinator.OnRequestStarted();
            coordinator.OnRequestFinished();
        }

        _time.Advance(TimeSpan.FromMilliseconds(500));
        TrafficWaitResult result = await wait.WaitAsync(Safety);

        Assert.Equal(TrafficWaitOutcome.MaximumReached, result.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(15), result.Elapsed);
        FakeLogRecord warning = Assert.Single(_logger.Collector.GetSnapshot(), r => r.Id.Id == 107);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, warning.Level);
        Assert.Contains("GracefulShutdown:TrafficWait:Maximum (00:00:15)", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TrafficWait_CalledRepeatedly_IsOneSharedWait()
    {
        ShutdownCoordinator coordinator = CreateRunning();
        Task first = coordinator.DrainAsync();
        Task second = coordinator.DrainAsync();
        Task<TrafficWaitResult> third = coordinator.WaitForTrafficToLeaveAsync();

        _time.Advance(TimeSpan.FromSeconds(5));
        await Task.WhenAll(first, second, third).WaitAsync(Safety);

        Assert.Same(third, coordinator.WaitForTrafficToLeaveAsync());
        Assert.Single(_logger.Collector.GetSnapshot(), r => r.Id.Id == 102);
        Assert.Equal(DrainTrigger.DrainAsync, coordinator.Trigger);
    }

    [Fact]
    public async Task OnSignal_Second_SkipsTheRestOfTheWait()
    {
        ShutdownCoordinator coordinator = CreateRunning();
        coordinator.OnSignal(PosixSignal.SIGTERM);
        Task<TrafficWaitResult> wait = coordinator.WaitForTrafficToLeaveAsync();
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(wait.IsCompleted);

        coordinator.OnSignal(PosixSignal.SIGTERM);
        TrafficWaitResult result = await wait.WaitAsync(Safety);

        Assert.Equal(TrafficWaitOutcome.SkippedBySecondSignal, result.Outcome);
        Assert.Equal(DrainTrigger.SigTerm, coordinator.Trigger);
        Assert.Contains(_logger.Collector.GetSnapshot(), r => r.Id.Id == 101);
    }

    [Fact]
    public async Task OnSignal_SigIntOutsideKubernetes_SkipsWait()
    {
        ShutdownCoordinator coordinator = CreateRunning(kubernetes: false);

        coordinator.OnSignal(PosixSignal.SIGINT);
        TrafficWaitResult result = await coordinator.WaitForTrafficToLeaveAsync().WaitAsync(Safety);

        Assert.Equal(TrafficWaitOutcome.SkippedOnLocalInterrupt, result.Outcome);
    }

    [Theory]
    [InlineData(PosixSignal.SIGINT, true, true)]
    [InlineData(PosixSignal.SIGTERM, false, true)]
    [InlineData(PosixSignal.SIGINT, false, false)]
    public void OnSignal_WhenTheWaitMustRun_DoesNotSkipIt(PosixSignal signal, bool kubernetes, bool skipOnLocalInterrupt)
    {
        _options.TrafficWait.SkipOnLocalInterrupt = skipOnLocalInterrupt;
        ShutdownCoordinator coordinator = CreateRunning(kubernetes);

        coordinator.OnSignal(signal);
        Task<TrafficWaitResult> wait = coordinator.WaitForTrafficToLeaveAsync();
        _time.Advance(TimeSpan.FromSeconds(4));

        Assert.False(wait.IsCompleted);
        Assert.Equal(GracefulShutdownPhase.Draining, coordinator.Phase);
    }

    [Fact]
    public async Task TrafficWait_NeverReady_IsSkipped()
    {
        ShutdownCoordinator coordinator = Create();
        coordinator.BeginDrain(DrainTrigger.SignalDuringStartup);

        TrafficWaitResult result = await coordinator.WaitForTrafficToLeaveAsync().WaitAsync(Safety);

        Assert.Equal(TrafficWaitOutcome.SkippedNeverReady, result.Outcome);
    }

    [Fact]
    public void OnRequestStarted_CountsInFlightAndReportsDraining()
    {
        ShutdownCoordinator coordinator = CreateRunning();

        Assert.False(coordinator.OnRequestStarted());
        Assert.False(coordinator.OnRequestStarted());
        coordinator.OnRequestFinished();
        Assert.Equal(1, coordinator.InFlight);

        coordinator.BeginDrain(DrainTrigger.PreStop);

        Assert.True(coordinator.OnRequestStarted());
        Assert.Equal(2, coordinator.InFlight);
    }

    [Fact]
    public void DrainDeadline_FiresDrainTimeoutMinusLeadAfterStopping()
    {
        _options.DrainTimeout = TimeSpan.FromSeconds(10);
        _options.DrainCancellationLead = TimeSpan.FromSeconds(2);
        ShutdownCoordinator coordinator = CreateRunning();
        coordinator.BeginDrain(DrainTrigger.SigTerm);
        coordinator.EnterStopping();

        _time.Advance(TimeSpan.FromMilliseconds(7999));
        Assert.False(coordinator.DrainDeadline.IsCancellationRequested);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.True(coordinator.DrainDeadline.IsCancellationRequested);
        Assert.Equal(GracefulShutdownPhase.Stopping, coordinator.Phase);
    }

    [Fact]
    public async Task Metrics_RecordRequestsWhileDrainingAndTrafficWait()
    {
        ShutdownCoordinator coordinator = CreateRunning();
        using var requests = new MetricCollector<long>(_meters, GracefulShutdownMetrics.MeterName, "graceful_shutdown.drain.requests");
        using var wait = new MetricCollector<double>(_meters, GracefulShutdownMetrics.MeterName, "graceful_shutdown.traffic_wait.duration");

        coordinator.OnRequestStarted();
        coordinator.BeginDrain(DrainTrigger.SigTerm);
        coordinator.OnRequestStarted();
        coordinator.OnRequestStarted();
        Task<TrafficWaitResult> waiting = coordinator.WaitForTrafficToLeaveAsync();
        _time.Advance(TimeSpan.FromSeconds(5));
        await waiting.WaitAsync(Safety);

        Assert.Equal(2, requests.GetMeasurementSnapshot().EvaluateAsCounter());
        CollectedMeasurement<double> measurement = Assert.Single(wait.GetMeasurementSnapshot());
        Assert.Equal(5, measurement.Value);
        Assert.Equal("Quiet", measurement.Tags["outcome"]);
        Assert.Equal("s", wait.Instrument!.Unit);
    }
}
