using System.Runtime.InteropServices;
using GracefulShutdown.Lifecycle;
using GracefulShutdown.Signals;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
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

    [Fact]
    public async Task RequestStop_TakesTheSignalsPath_TheHostStopsOnlyWhenTheWaitIsOver()
    {
        IGracefulShutdown shutdown = _lifecycle.Shutdown;

        shutdown.RequestStop();
        shutdown.RequestStop();
        bool drainStarted = shutdown.DrainStarted.IsCancellationRequested;
        _time.Advance(TimeSpan.FromSeconds(4));
        bool stoppedDuringTheWait = _lifetime.Stopped.IsCompleted;
        _time.Advance(TimeSpan.FromSeconds(1));
        await _lifetime.Stopped.WaitAsync(Safety);

        Assert.True(drainStarted);
        Assert.False(stoppedDuringTheWait);
        Assert.Equal(1, _lifetime.StopCalls);
        Assert.Equal(DrainTrigger.RequestStop, _lifecycle.State.Trigger);
    }

    [Fact]
    public async Task SigTerm_TheHostsStopTimeout_IsWhatIsLeftOfTheBudgetFromTheDrainsStart()
    {
        // The review's reproduction: wait 1–6 s, drain 4 s (lead 1 s), stop margin 2 s, grace 12 s. The host's stop token must fire
        // 11 s after the drain began (12 s less the exit reserve of 1 s), not 12 s after the wait ended.
        var options = new GracefulShutdownOptions
        {
            TrafficWait = { Minimum = TimeSpan.FromSeconds(1), Maximum = TimeSpan.FromSeconds(6) },
            DrainTimeout = TimeSpan.FromSeconds(4),
            DrainCancellationLead = TimeSpan.FromSeconds(1),
            StopMargin = TimeSpan.FromSeconds(2),
            TerminationGracePeriod = TimeSpan.FromSeconds(12),
        };
        var lifetime = new StopRecordingLifetime();
        using var lifecycle = new TestLifecycle(_time, options, lifetime: lifetime);
        lifecycle.MarkRunning();
        HostOptions host = lifecycle.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<HostOptions>>().Value;
        TimeSpan configured = host.ShutdownTimeout;
        lifetime.Host = host;

        lifecycle.Signal(PosixSignal.SIGTERM);
        _time.Advance(TimeSpan.FromSeconds(6));
        await lifetime.Stopped.WaitAsync(Safety);

        Assert.Equal(TimeSpan.FromSeconds(11), configured);
        Assert.Equal(TimeSpan.FromSeconds(11), lifecycle.Shutdown.Budget.StopDeadline);
        Assert.Equal(TimeSpan.FromSeconds(5), lifetime.TimeoutAtStop);
    }

    [Fact]
    public async Task ADrainParticipant_RunsAfterTheWait_AndBeforeApplicationStoppingOnASignal()
    {
        var participant = new RecordingParticipant(_lifetime);
        using var lifecycle = new TestLifecycle(_time, _lifecycle.Options, lifetime: _lifetime,
            configure: services => services.AddSingleton<IDrainParticipant>(participant));
        lifecycle.MarkRunning();

        lifecycle.Signal(PosixSignal.SIGTERM);
        _time.Advance(TimeSpan.FromSeconds(5));
        TrafficWaitResult seen = await participant.Started.WaitAsync(Safety);
        bool stoppedWhileItRan = _lifetime.Stopped.IsCompleted;
        participant.Finish();
        await _lifetime.Stopped.WaitAsync(Safety);

        Assert.Equal(TrafficWaitOutcome.MaximumReached, seen.Outcome);
        Assert.False(participant.StoppingWhenStarted);
        Assert.False(stoppedWhileItRan);
    }

    [Fact]
    public async Task ADrainParticipant_OnTheAppsOwnStopApplication_RunsBeforeTheServerDrain()
    {
        var participant = new RecordingParticipant(_lifetime);
        using var lifecycle = new TestLifecycle(_time, _lifecycle.Options, lifetime: _lifetime,
            configure: services => services.AddSingleton<IDrainParticipant>(participant));
        lifecycle.MarkRunning();

        Task stopping = lifecycle.Conductor.StopAsync(CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(5));
        await participant.Started.WaitAsync(Safety);
        GracefulShutdownPhase phaseWhileItRan = lifecycle.Phase;
        participant.Finish();
        await stopping.WaitAsync(Safety);

        Assert.Equal(GracefulShutdownPhase.Draining, phaseWhileItRan);
        Assert.Equal(GracefulShutdownPhase.Stopping, lifecycle.Phase);
    }

    [Fact]
    public async Task AFailingDrainParticipant_IsLogged_AndTheStopGoesOn()
    {
        using var lifecycle = new TestLifecycle(_time, _lifecycle.Options, lifetime: _lifetime,
            configure: services => services.AddSingleton<IDrainParticipant>(new FailingParticipant()));
        lifecycle.MarkRunning();

        lifecycle.Signal(PosixSignal.SIGTERM);
        _time.Advance(TimeSpan.FromSeconds(5));
        await _lifetime.Stopped.WaitAsync(Safety);

        Assert.Contains(lifecycle.Logs.GetSnapshot(), r => r.Id.Id == 127 && r.Message.Contains(nameof(FailingParticipant), StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheAppsOwnStopApplicationFirst_ThenASignal_Event124SaysTheHostIsAlreadyStopping()
    {
        var logged = new LogEventWaiter(124);
        var lifetime = new StopRecordingLifetime();
        using var lifecycle = new TestLifecycle(_time, _lifecycle.Options, lifetime: lifetime, configure: services =>
            services.AddSingleton<ILoggerFactory>(new LoggerFactory([new FakeLoggerProvider(_lifecycle.Logs), logged])));
        lifecycle.MarkRunning();

        // The application's own StopApplication(): ApplicationStopping fires, the host's stop runs the wait; then SIGTERM.
        lifetime.StopApplication();
        Task stopping = lifecycle.Conductor.StopAsync(CancellationToken.None);
        lifecycle.Signal(PosixSignal.SIGTERM);
        _time.Advance(TimeSpan.FromSeconds(5));
        await stopping.WaitAsync(Safety);
        await logged.Logged.WaitAsync(Safety);

        FakeLogRecord record = Assert.Single(_lifecycle.Logs.GetSnapshot(), r => r.Id.Id == 124);
        Assert.Equal(1, lifetime.StopCalls);
        Assert.Contains("already stopping", record.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("stopping the host now", record.Message, StringComparison.Ordinal);
    }

    private sealed class RecordingParticipant(IHostApplicationLifetime lifetime) : IDrainParticipant
    {
        private readonly TaskCompletionSource<TrafficWaitResult> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _finish = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<TrafficWaitResult> Started => _started.Task;

        public bool StoppingWhenStarted { get; private set; }

        public void Finish() => _finish.TrySetResult();

        public Task RunAsync(TrafficWaitResult wait, CancellationToken deadline)
        {
            StoppingWhenStarted = lifetime.ApplicationStopping.IsCancellationRequested;
            _started.TrySetResult(wait);
            return _finish.Task;
        }
    }

    private sealed class FailingParticipant : IDrainParticipant
    {
        public Task RunAsync(TrafficWaitResult wait, CancellationToken deadline) => throw new InvalidOperationException("broken");
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

        /// <summary>Gets or sets the host options whose stop timeout <see cref="TimeoutAtStop"/> records.</summary>
        public HostOptions? Host { get; set; }

        /// <summary>Gets the host's stop timeout when StopApplication() was called: what the host's StopAsync then uses.</summary>
        public TimeSpan? TimeoutAtStop { get; private set; }

        public void StopApplication()
        {
            TimeoutAtStop = Host?.ShutdownTimeout;
            Interlocked.Increment(ref _stopCalls);
            _stopping.Cancel();
            _stopped.TrySetResult();
        }
    }
}
