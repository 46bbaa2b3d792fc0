using System.Net;
using GracefulShutdown.Lifecycle;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace GracefulShutdown.Tests.Endpoints;

/// <summary>A drain begun by preStop that no SIGTERM follows within TerminationGracePeriod + PreStop:SigTermMargin stops the application.</summary>
public sealed class PreStopWatchdogTests : IAsyncDisposable
{
    private readonly FakeTimeProvider _time = new();
    private WebApplication? _app;

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopNowAsync();
        }
    }

    private async Task<WebApplication> StartAsync() =>
        _app = await TestHostBuilder.StartAsync(_time, o =>
        {
            o.TerminationGracePeriod = TimeSpan.FromSeconds(30);
            o.PreStop.SigTermMargin = TimeSpan.FromSeconds(5);
        }, s => s.AddLogging(b => b.AddFakeLogging()));

    private static async Task<int> PreStopAsync(WebApplication app) =>
        (await app.GetTestServer().SendAsync(c =>
        {
            c.Request.Path = "/lifecycle/prestop";
            c.Request.QueryString = new QueryString("?wait=false");
            c.Connection.RemoteIpAddress = IPAddress.Loopback;
        })).Response.StatusCode;

    private static IHostApplicationLifetime Lifetime(WebApplication app) => app.Services.GetRequiredService<IHostApplicationLifetime>();

    private static FakeLogRecord[] Expired(WebApplication app) =>
        [.. app.Services.GetFakeLogCollector().GetSnapshot().Where(static r => r.Id.Id == 115 && r.Category!.StartsWith("GracefulShutdown", StringComparison.Ordinal))];

    [Fact]
    public async Task PreStop_NotFollowedBySigTerm_StopsTheApplication_AtGracePeriodPlusMargin()
    {
        WebApplication app = await StartAsync();

        Assert.Equal(202, await PreStopAsync(app));
        _time.Advance(TimeSpan.FromSeconds(35) - TimeSpan.FromMilliseconds(1));
        bool stoppingBefore = Lifetime(app).ApplicationStopping.IsCancellationRequested;
        _time.Advance(TimeSpan.FromMilliseconds(1));

        // The watchdog asks the conductor, which stops the host off the timer's thread once the drain's steps are over.
        await Task.Delay(Timeout.Infinite, Lifetime(app).ApplicationStopping).ContinueWith(static _ => { }, TaskScheduler.Default)
            .WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(stoppingBefore);
        Assert.True(Lifetime(app).ApplicationStopping.IsCancellationRequested);
        FakeLogRecord warning = Assert.Single(Expired(app));
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("No SIGTERM followed the drain that the preStop hook began 35.000 s ago", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PreStop_ThenSigTerm_DisarmsIt()
    {
        WebApplication app = await StartAsync();

        Assert.Equal(202, await PreStopAsync(app));
        _time.Advance(TimeSpan.FromSeconds(6));
        Lifetime(app).StopApplication();
        _time.Advance(TimeSpan.FromSeconds(60));

        Assert.Empty(Expired(app));
    }

    [Fact]
    public async Task PreStop_AfterADrainSigTermBegan_ArmsNothing()
    {
        WebApplication app = await StartAsync();
        app.Shutdown().BeginDrain(DrainTrigger.SigTerm);

        Assert.Equal(202, await PreStopAsync(app));
        _time.Advance(TimeSpan.FromSeconds(60));

        Assert.False(Lifetime(app).ApplicationStopping.IsCancellationRequested);
        Assert.Empty(Expired(app));
    }

    [Fact]
    public async Task PreStop_Refused_ArmsNothing()
    {
        WebApplication app = await StartAsync();

        HttpContext refused = await app.GetTestServer().SendAsync(c =>
        {
            c.Request.Path = "/lifecycle/prestop";
            c.Connection.RemoteIpAddress = IPAddress.Parse("10.0.0.9");
        });
        _time.Advance(TimeSpan.FromSeconds(60));

        Assert.Equal(403, refused.Response.StatusCode);
        Assert.False(Lifetime(app).ApplicationStopping.IsCancellationRequested);
        Assert.Equal(GracefulShutdownPhase.Running, app.Lifecycle().Phase);
    }
    [Fact]
    public async Task Arm_WithDurationsPastTheTimersLimit_ClampsInsteadOfThrowing_SoNoDrainIsLeftHalfBegun()
    {
        // Defect 3's second half: validation now rejects such a grace period, and the watchdog no longer trusts it did. Options
        // built in code without validation (TestLifecycle) reach it as they are.
        var options = new GracefulShutdownOptions
        {
            TerminationGracePeriod = TimeSpan.FromDays(60),
            TrafficWait = { Minimum = TimeSpan.Zero, Maximum = TimeSpan.FromSeconds(1) },
        };
        var lifetime = new TestLifetime();
        using var lifecycle = new TestLifecycle(_time, options, lifetime: lifetime);
        lifecycle.MarkRunning();
        lifecycle.BeginDrain(DrainTrigger.PreStop);

        Exception? thrown = Record.Exception(() => lifecycle.Services.GetRequiredService<GracefulShutdown.Endpoints.PreStopWatchdog>().Arm());
        Task<TrafficWaitResult> wait = lifecycle.TrafficWait.WaitAsync();
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Null(thrown);
        Assert.Equal(TrafficWaitOutcome.MaximumReached, (await wait.WaitAsync(TimeSpan.FromSeconds(10))).Outcome);
        Assert.Equal(0, lifetime.StopCalls);
    }
}
