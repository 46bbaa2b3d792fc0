using System.Runtime.InteropServices;
using GracefulShutdown.Lifecycle;
using GracefulShutdown.Signals;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace GracefulShutdown.Tests.Lifecycle;

/// <summary>On a signal, ApplicationStopping (the host's stop) comes after the traffic wait, not at the start of the drain.</summary>
public sealed class ShutdownConductorTests : IDisposable
{
    private static readonly TimeSpan Safety = TimeSpan.FromSeconds(10);
    private readonly FakeTimeProvider _time = new();
    private readonly StopRecordingLifetime _lifetime = new();
    private readonly TestLifecycle _lifecycle;

    public ShutdownConductorTests()
    {
        var options = new GracefulShutdownOptions
        {
            // An instance with no traffic history waits until the maximum: the wait ends at exactly 5 s.
            TrafficWait = { Minimum = TimeSpan.FromSeconds(5), Maximum = TimeSpan.FromSeconds(5) },
        };
        _lifecycle = new TestLifecycle(_time, options, lifetime: _lifetime);
        _lifecycle.MarkRunning();
    }

    public void Dispose() => _lifecycle.Dispose();

    [Fact]
    public async Task SigTerm_StopsTheHostOnlyWhenTheTrafficWaitIsOver()
    {
        _lifecycle.Signal(PosixSignal.SIGTERM);
        bool drainStarted = _lifecycle.Shutdown.DrainStarted.IsCancellationRequested;
        _time.Advance(TimeSpan.FromSeconds(4));
        bool stoppedDuringTheWait = _lifetime.Stopped.IsCompleted;
        _time.Advance(TimeSpan.FromSeconds(1));
        await _lifetime.Stopped.WaitAsync(Safety);

        Assert.True(drainStarted);
        Assert.False(stoppedDuringTheWait);
        Assert.True(_lifecycle.TrafficWait.WaitAsync().IsCompletedSuccessfully);
        Assert.Equal(DrainTrigger.SigTerm, _lifecycle.State.Trigger);
        Assert.Contains(_lifecycle.Logs.GetSnapshot(), r => r.Id.Id == 124);
    }

    [Fact]
    public async Task TheHostLifetimesStopApplication_IsDeferredToo_AndBothStopOnce()
    {
        var deferring = new DeferringApplicationLifetime(_lifetime, _lifecycle.Conductor);

        // What ConsoleLifetime does on SIGTERM, next to the library's own handler.
        deferring.StopApplication();
        _lifecycle.Signal(PosixSignal.SIGTERM);
        bool stoppedAtOnce = _lifetime.Stopped.IsCompleted;
        _time.Advance(TimeSpan.FromSeconds(5));
        await _lifetime.Stopped.WaitAsync(Safety);

        Assert.False(stoppedAtOnce);
        Assert.Equal(1, _lifetime.StopCalls);
        Assert.Equal(_lifetime.ApplicationStopping, deferring.ApplicationStopping);
        Assert.Equal(_lifetime.ApplicationStarted, deferring.ApplicationStarted);
    }

    [Fact]
    public async Task SecondSigTerm_SkipsTheWait_AndStopsTheHost()
    {
        _lifecycle.Signal(PosixSignal.SIGTERM);
        _lifecycle.Signal(PosixSignal.SIGTERM);
        await _lifetime.Stopped.WaitAsync(Safety);

        Assert.Equal(TrafficWaitOutcome.SkippedBySecondSignal, (await _lifecycle.TrafficWait.WaitAsync().WaitAsync(Safety)).Outcome);
    }

    private sealed class StopRecordingLifetime : IHostApplicationLifetime
    {
        private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly CancellationTokenSource _stopping = new();
        private int _stopCalls;

        public Task Stopped => _stopped.Task;

        public int StopCalls => Volatile.Read(ref _stopCalls);

        public CancellationToken ApplicationStarted => CancellationToken.None;

        public CancellationToken ApplicationStopping => _stopping.Token;

        public CancellationToken ApplicationStopped => CancellationToken.None;

        public void StopApplication()
        {
            Interlocked.Increment(ref _stopCalls);
            _stopping.Cancel();
            _stopped.TrySetResult();
        }
    }
}
