using System.Text.Json;
using GracefulShutdown.Eureka.Registration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace GracefulShutdown.Eureka.Tests.Registration;

/// <summary>The hosted service with its background loop, driven by the host's calls and the fake clock.</summary>
public class EurekaRegistrationServiceTests
{
    private static JsonElement Instance(RecordedRequest request) => JsonDocument.Parse(request.Body!).RootElement.GetProperty("instance");

    [Fact]
    public async Task Loop_FullLifecycle_StartingUpOutOfServiceHeartbeatDelete()
    {
        using var h = new EurekaHarness();
        EurekaRegistrationService service = h.Service;

        await service.StartingAsync(CancellationToken.None);
        await service.StartedAsync(CancellationToken.None);
        Assert.Equal("STARTING", Instance(await h.Handler.NextAsync()).GetProperty("status").GetString());
        Assert.Equal(TimeSpan.FromSeconds(30), await h.LoopWaitingAsync());

        h.Shutdown.MarkReady();
        Assert.Equal("UP", Instance(await h.Handler.NextAsync()).GetProperty("status").GetString());
        Assert.Equal(HttpMethod.Get, (await h.Handler.NextAsync()).Method);
        Assert.Equal(TimeSpan.FromSeconds(30), await h.LoopWaitingAsync());

        h.Time.Advance(TimeSpan.FromSeconds(30));
        Assert.StartsWith("?status=UP", (await h.Handler.NextAsync()).Query, StringComparison.Ordinal);
        await h.LoopWaitingAsync();

        h.Shutdown.BeginDrain();
        Assert.StartsWith("?value=OUT_OF_SERVICE", (await h.Handler.NextAsync()).Query, StringComparison.Ordinal);
        await h.LoopWaitingAsync();
        h.Time.Advance(TimeSpan.FromSeconds(30));
        Assert.StartsWith("?status=OUT_OF_SERVICE", (await h.Handler.NextAsync()).Query, StringComparison.Ordinal);
        await h.LoopWaitingAsync();

        await service.StoppingAsync(CancellationToken.None);
        await service.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));

        RecordedRequest delete = h.Handler.Requests[^1];
        Assert.Equal(HttpMethod.Delete, delete.Method);
        Assert.Equal("/eureka/apps/ORDERS/pod-1:orders:8080", delete.Path);
        Assert.Empty(h.LogsWithId(218));                       // the loop ended without failing
        Assert.Equal(EurekaRegistration.Deregistered, h.State.Registration);
        Assert.Single(h.LogsWithId(211));
        Assert.DoesNotContain(h.Handler.Requests.SkipWhile(r => r.Method != HttpMethod.Delete).Skip(1), _ => true);
    }

    [Fact]
    public async Task Stop_DeleteHangs_IsBoundedByTheStopMargin()
    {
        using var h = new EurekaHarness(client: o => o.RequestTimeoutSeconds = 30, shutdown: o => o.StopMargin = TimeSpan.FromSeconds(3));
        await h.Service.StartedAsync(CancellationToken.None);
        await h.Handler.NextAsync();
        await h.LoopWaitingAsync();
        h.Handler.Respond = (r, ct) => FakeEurekaHandler.Hang(ct);

        Task stop = h.Service.StopAsync(CancellationToken.None);
        Assert.Equal(HttpMethod.Delete, (await h.Handler.NextAsync()).Method);
        Assert.False(stop.IsCompleted);
        h.Time.Advance(TimeSpan.FromSeconds(3));

        await stop.WaitAsync(TimeSpan.FromSeconds(10));
        FakeLogRecord failed = Assert.Single(h.LogsWithId(212));
        Assert.Equal(LogLevel.Warning, failed.Level);
    }

    [Fact]
    public async Task Stop_NeverAttemptedRegistration_SendsNoDelete()
    {
        using var h = new EurekaHarness();
        h.Shutdown.BeginDrain();
        await h.Service.StartedAsync(CancellationToken.None);
        await h.WaitForLogAsync(210);                          // the loop ran, and now waits for the lifecycle (no timer)

        await h.Service.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Empty(h.Handler.Requests);
    }

    [Fact]
    public async Task Disabled_NoServiceUrl_LogsOnce_AndMakesNoCalls()
    {
        using var h = new EurekaHarness(client: o => o.ServiceUrl = null);

        await h.Service.StartingAsync(CancellationToken.None);
        await h.Service.StartedAsync(CancellationToken.None);
        await h.Service.StopAsync(CancellationToken.None);

        Assert.Empty(h.Handler.Requests);
        FakeLogRecord record = Assert.Single(h.Logs.GetSnapshot()); // no 201: no identity resolved, no loop started
        Assert.Equal(200, record.Id.Id);
        Assert.Equal(LogLevel.Information, record.Level);
        Assert.Equal(EurekaRegistration.Off, h.State.Registration);
    }

    [Fact]
    public async Task Starting_TrafficWaitShorterThanPropagation_WarnsWithKeysAndValues()
    {
        using var h = new EurekaHarness();

        await h.Service.StartingAsync(CancellationToken.None);

        FakeLogRecord warning = Assert.Single(h.LogsWithId(202));
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("GracefulShutdown:TrafficWait:Maximum is 00:00:15", warning.Message, StringComparison.Ordinal);
        Assert.Contains("at least 00:01:30", warning.Message, StringComparison.Ordinal);
        Assert.Contains("terminationGracePeriodSeconds", warning.Message, StringComparison.Ordinal);
        Assert.Contains("00:01:43", warning.Message, StringComparison.Ordinal); // 90 s + DrainTimeout 10 s + StopMargin 3 s
    }

    [Fact]
    public async Task Starting_TrafficWaitLongEnough_DoesNotWarn()
    {
        using var h = new EurekaHarness(shutdown: o => o.TrafficWait.Maximum = TimeSpan.FromSeconds(95));

        await h.Service.StartingAsync(CancellationToken.None);

        Assert.Empty(h.LogsWithId(202));
    }
}
