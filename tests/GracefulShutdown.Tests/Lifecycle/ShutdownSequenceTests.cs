using GracefulShutdown.Hosting;
using GracefulShutdown.Lifecycle;
using GracefulShutdown.Signals;
using GracefulShutdown.Startup;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Moq;

namespace GracefulShutdown.Tests.Lifecycle;

public sealed class ShutdownSequenceTests : IDisposable
{
    private static readonly TimeSpan Safety = TimeSpan.FromSeconds(10);
    private readonly FakeTimeProvider _time = new();
    private readonly GracefulShutdownOptions _options = new()
    {
        TrafficWait = { Minimum = TimeSpan.FromSeconds(5), Maximum = TimeSpan.FromSeconds(5) },
        DrainTimeout = TimeSpan.FromSeconds(10),
        DrainCancellationLead = TimeSpan.FromSeconds(2),
    };
    private readonly Mock<IServer> _server = new();
    private readonly TestLifetime _lifetime = new();
    private readonly TestLifecycle _lifecycle;
    private readonly LifecycleState _coordinator;
    private readonly LifecycleHostedService _service;
    private readonly FakeLogCollector _logs;

    public ShutdownSequenceTests()
    {
        _server.SetupGet(s => s.Features).Returns(new FeatureCollection());
        _lifecycle = new TestLifecycle(_time, _options, server: _server.Object, lifetime: _lifetime);
        _coordinator = _lifecycle.State;
        _service = _lifecycle.Hosted<LifecycleHostedService>();
        _logs = _lifecycle.Logs;
    }

    public void Dispose() => _lifecycle.Dispose();

    /// <summary>Starts the library's hosted services in the host's order.</summary>
    private async Task StartAsync()
    {
        foreach (IHostedLifecycleService service in _lifecycle.Services.GetServices<IHostedService>().OfType<IHostedLifecycleService>())
        {
            await service.StartingAsync(CancellationToken.None);
            await service.StartAsync(CancellationToken.None);
        }

        foreach (IHostedLifecycleService service in _lifecycle.Services.GetServices<IHostedService>().OfType<IHostedLifecycleService>())
        {
            await service.StartedAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task StartedAsync_NoGates_IsRunning()
    {
        await StartAsync();

        Assert.Equal(GracefulShutdownPhase.Running, _coordinator.Phase);
    }

    [Fact]
    public async Task StoppingAsync_NothingElseBeganTheDrain_BeginsItAsStopApplication()
    {
        await StartAsync();

        _ = _service.StoppingAsync(CancellationToken.None);

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
        _lifecycle.Requests.OnRequestStarted();
        _lifecycle.Requests.OnRequestStarted();
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
        using var aborted = _lifecycle.Collect<long>("graceful_shutdown.drain.aborted_requests");

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
        _lifecycle.BeginDrain(DrainTrigger.PreStop);

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

    [Fact]
    public async Task StoppedAsync_LogsOneReportAndEndsTheShutdownActivity()
    {
        var activities = new List<System.Diagnostics.Activity>();
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = source => source.Name == GracefulShutdownTelemetry.ActivitySourceName,
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) =>
                System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activities.Add,
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);
        await StartAsync();
        _server.Setup(s => s.StopAsync(It.IsAny<CancellationToken>())).Returns(Task.CompletedTask);
        _lifecycle.Services.GetRequiredService<IGracefulShutdownReport>().Add("eureka", "before the drain: ignored");

        Task stopping = _service.StoppingAsync(CancellationToken.None);
        _lifecycle.Services.GetRequiredService<IGracefulShutdownReport>().Add("eureka", "out of service");
        _time.Advance(TimeSpan.FromSeconds(5));
        await stopping.WaitAsync(Safety);
        await _service.StoppedAsync(CancellationToken.None);
        await _service.StoppedAsync(CancellationToken.None);

        FakeLogRecord report = Assert.Single(_logs.GetSnapshot(), r => r.Id.Id == 109);
        Assert.Equal("StopApplication", report.GetStructuredStateValue("Trigger"));
        Assert.Equal("MaximumReached", report.GetStructuredStateValue("WaitOutcome"));
        Assert.Equal(
            "+0.000 s lifecycle: drain started by StopApplication, 0 requests in flight; +0.000 s eureka: out of service; " +
            "+5.000 s traffic wait: ended (MaximumReached), 0 requests during the wait, rate ≥ 0/s, conclusive silence none (no traffic seen); " +
            "+5.000 s server: stopped accepting connections, 0 requests in flight; +5.000 s server: stopped after 0.000 s, 0 requests aborted",
            report.GetStructuredStateValue("Timeline"));
        Assert.Equal("none (no traffic seen)", report.GetStructuredStateValue("ConclusiveSilence"));
        System.Diagnostics.Activity activity = Assert.Single(activities, a => a.OperationName == "graceful_shutdown");
        Assert.Equal(5, activity.Events.Count());
        Assert.Equal(TimeSpan.FromSeconds(5), activity.Duration);
    }

    [Fact]
    public async Task StoppedAsync_NoTrafficEverSeen_EveryLoggedValueCanBeWrittenAsJson()
    {
        // With no traffic the conclusive silence is infinite. The JSON console formatter (common on Kubernetes) writes numbers
        // with Utf8JsonWriter, which throws for non-finite values: one such value in a log state crashed the process at exit.
        await StartAsync();
        _server.Setup(s => s.StopAsync(It.IsAny<CancellationToken>())).Returns(Task.CompletedTask);

        Task stopping = _service.StoppingAsync(CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(5));
        await stopping.WaitAsync(Safety);
        await _service.StoppedAsync(CancellationToken.None);

        IReadOnlyList<CapturedState> entries = _lifecycle.States.Entries;
        Assert.Contains(entries, e => e.EventId == 109);
        Assert.Contains(entries, e => e.EventId == 102);
        using var writer = new System.Text.Json.Utf8JsonWriter(System.IO.Stream.Null);
        foreach (CapturedState entry in entries)
        {
            foreach ((string key, object? value) in entry.Values)
            {
                // The formatter's cases for numbers: double and float go to WriteNumber, which must not throw.
                Exception? thrown = Record.Exception(() =>
                {
                    writer.WriteStartObject();
                    switch (value)
                    {
                        case double d:
                            writer.WriteNumber(key, d);
                            break;
                        case float f:
                            writer.WriteNumber(key, f);
                            break;
                        default:
                            writer.WriteString(key, Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture));
                            break;
                    }

                    writer.WriteEndObject();
                    writer.Reset();
                });
                Assert.True(thrown is null, $"{entry.Category}[{entry.EventId}] {key} = {value}: {thrown?.Message}");
            }
        }
    }
}
