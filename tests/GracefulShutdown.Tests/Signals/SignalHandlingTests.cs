using System.Runtime.InteropServices;
using GracefulShutdown.Lifecycle;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace GracefulShutdown.Tests.Signals;

public sealed class SignalHandlingTests
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
    public async Task OnSignal_Second_SkipsTheRestOfTheWait()
    {
        using TestLifecycle lifecycle = CreateRunning();
        lifecycle.Signal(PosixSignal.SIGTERM);
        Task<TrafficWaitResult> wait = lifecycle.TrafficWait.WaitAsync();
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(wait.IsCompleted);

        lifecycle.Signal(PosixSignal.SIGTERM);
        TrafficWaitResult result = await wait.WaitAsync(Safety);

        Assert.Equal(TrafficWaitOutcome.SkippedBySecondSignal, result.Outcome);
        Assert.Equal(DrainTrigger.SigTerm, lifecycle.State.Trigger);
        Assert.Contains(lifecycle.Logs.GetSnapshot(), r => r.Id.Id == 101);
    }

    [Fact]
    public async Task OnSignal_SigIntOutsideKubernetes_SkipsWait()
    {
        using TestLifecycle lifecycle = CreateRunning(kubernetes: false);

        lifecycle.Signal(PosixSignal.SIGINT);
        TrafficWaitResult result = await lifecycle.TrafficWait.WaitAsync().WaitAsync(Safety);

        Assert.Equal(TrafficWaitOutcome.SkippedOnLocalInterrupt, result.Outcome);
    }

    [Theory]
    [InlineData(PosixSignal.SIGINT, true, true)]
    [InlineData(PosixSignal.SIGTERM, false, true)]
    [InlineData(PosixSignal.SIGINT, false, false)]
    public void OnSignal_WhenTheWaitMustRun_DoesNotSkipIt(PosixSignal signal, bool kubernetes, bool skipOnLocalInterrupt)
    {
        _options.Signals.SkipWaitOnLocalInterrupt = skipOnLocalInterrupt;
        using TestLifecycle lifecycle = CreateRunning(kubernetes);

        lifecycle.Signal(signal);
        Task<TrafficWaitResult> wait = lifecycle.TrafficWait.WaitAsync();
        _time.Advance(TimeSpan.FromSeconds(4));

        Assert.False(wait.IsCompleted);
        Assert.Equal(GracefulShutdownPhase.Draining, lifecycle.Phase);
    }
}
