using GracefulShutdown.Internal;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Moq;

namespace GracefulShutdown.Tests.Internal;

public sealed class GracefulShutdownHostedServiceTests : IDisposable
{
    private static readonly TimeSpan Safety = TimeSpan.FromSeconds(10);
    private readonly FakeTimeProvider _time = new();
    private readonly FakeLogCollector _logs = new();
    private readonly TestMeterFactory _meters = new();
    private readonly GracefulShutdownOptions _options = new()
    {
        TrafficWait = { Minimum = TimeSpan.FromSeconds(5), QuietPeriod = TimeSpan.FromSeconds(2), Maximum = TimeSpan.FromSeconds(15) },
        DrainTimeout = TimeSpan.FromSeconds(10),
        DrainCancellationLead = TimeSpan.FromSeconds(2),
    };
    private readonly Mock<IServer> _server = new();
    private readonly TestLifetime _lifetime = new();
    private readonly ShutdownCoordinator _coordinator;
    private readonly GracefulShutdownHostedService _service;

    public GracefulShutdownHostedServiceTests()
    {
        _server.SetupGet(s => s.Features).Returns(new FeatureCollection());
        _coordinator = new ShutdownCoordinator(Options.Create(_options), _time, new FakeLogger<ShutdownCoordinator>(_logs), _meters,
            new KubernetesEnvironment(false));
        var services = new Mock<IServiceProvider>();
        services.Setup(s => s.GetService(typeof(IServer))).Returns(_server.Object);
        _service = new GracefulShutdownHostedService(_coordinator, _lifetime, services.Object, [], Options.Create(_options),
            Options.Create(new HostOptions()), new KubernetesEnvironment(false), _time, new FakeLogger<GracefulShutdownHostedService>(_logs));
    }

    public void Dispose()
    {
        _service.Dispose();
        _coordinator.Dispose();
        _meters.Dispose();
    }

    private async Task StartAsync()
    {
        await _service.StartingAsync(CancellationToken.None);
        await _service.StartAsync(CancellationToken.None);
        await _service.StartedAsync(CancellationToken.None);
    }

    [Fact]
    public async Task StartedAsync_NoGates_IsRunning()
    {
        await StartAsync();

        Assert.Equal(GracefulShutdownPhase.Running, _coordinator.Phase);
    }

    [Fact]
    public async Task ApplicationStopping_BeginsTheDrain()
    {
        await StartAsync();

        _lifetime.StopApplication();

        Assert.Equal(GracefulShutdownPhase.Draining, _coordinator.Phase);
        Assert.Equal(DrainTrigger.StopApplication, _coordinator.Trigger);
    }

    [Fact]
    public async Task StoppingAsync_WaitsForTrafficThenStopsTheServerWithinTheDrainTimeout()
    {
        await StartAsync();
        var serverStop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stopCalled = new TaskCompletionSource<CancellationToken>(TaskCreationOptions.RunContinuationsAsynchronously);
        _server.Setup(s => s.StopAsync(It.IsAny<CancellationToken>()))
            .Callback<CancellationToken>(token => stopCalled.TrySetResult(token))
            .Returns(serverStop.Task);

        Task stopping = _service.StoppingAsync(CancellationToken.None);
        _time.Advance(TimeSpan.FromMilliseconds(4999));
        Assert.False(stopCalled.Task.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        CancellationToken serverToken = await stopCalled.Task.WaitAsync(Safety);
        Assert.Equal(GracefulShutdownPhase.Stopping, _coordinator.Phase);
        Assert.False(serverToken.IsCancellationRequested);

        serverStop.SetResult();
        await stopping.WaitAsync(Safety);

        Assert.Contains(_logs.GetSnapshot(), r => r.Id.Id == 104);
        Assert.DoesNotContain(_logs.GetSnapshot(), r => r.Id.Id == 105);
    }

    [Fact]
    public async Task StoppingAsync_RequestsOutlastTheDrainTimeout_LogsTheAbortedCount()
    {
        await StartAsync();
        _coordinator.OnRequestStarted();
        _coordinator.OnRequestStarted();
        var serverStop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stopCalled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _server.Setup(s => s.StopAsync(It.IsAny<CancellationToken>()))
            .Returns<CancellationToken>(token =>
            {
                // Like Kestrel: on the token, abort what is left and return.
                token.Register(() => serverStop.TrySetResult());
                stopCalled.TrySetResult();
                return serverStop.Task;
            });
        using var aborted = new MetricCollector<long>(_meters,
            GracefulShutdownMetrics.MeterName, "graceful_shutdown.drain.aborted_requests");

        Task stopping = _service.StoppingAsync(CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(5));
        await stopCalled.Task.WaitAsync(Safety);
        _time.Advance(TimeSpan.FromSeconds(8));
        Assert.True(_coordinator.DrainDeadline.IsCancellationRequested);
        Assert.False(stopping.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(2));
        await stopping.WaitAsync(Safety);

        FakeLogRecord record = Assert.Single(_logs.GetSnapshot(), r => r.Id.Id == 105);
        Assert.Equal("Drain timeout 00:00:10 reached: 2 requests still in flight were aborted.", record.Message);
        Assert.Equal(2, aborted.GetMeasurementSnapshot().EvaluateAsCounter());
    }

    [Fact]
    public async Task StoppedAsync_LogsCompletionWithTheTrigger()
    {
        await StartAsync();
        _coordinator.BeginDrain(DrainTrigger.PreStop);

        await _service.StoppedAsync(CancellationToken.None);

        Assert.Equal(GracefulShutdownPhase.Stopped, _coordinator.Phase);
        Assert.Contains(_logs.GetSnapshot(), r => r.Id.Id == 106 && r.Message.Contains("(PreStop)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StartingAsync_NoManagementPortNorToken_LogsHowToAllowKubelet()
    {
        await StartAsync();

        FakeLogRecord record = Assert.Single(_logs.GetSnapshot(), r => r.Id.Id == 2);
        Assert.Contains("GracefulShutdown:ManagementPort", record.Message, StringComparison.Ordinal);
        Assert.Contains("GracefulShutdown:PreStop:Token", record.Message, StringComparison.Ordinal);
    }

    private sealed class TestLifetime : IHostApplicationLifetime
    {
        private readonly CancellationTokenSource _started = new();
        private readonly CancellationTokenSource _stopping = new();

        public CancellationToken ApplicationStarted => _started.Token;

        public CancellationToken ApplicationStopping => _stopping.Token;

        public CancellationToken ApplicationStopped => CancellationToken.None;

        public void StopApplication() => _stopping.Cancel();
    }
}
