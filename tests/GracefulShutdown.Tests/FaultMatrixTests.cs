using System.Net;
using GracefulShutdown.Hosting;
using GracefulShutdown.Lifecycle;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace GracefulShutdown.Tests;

/// <summary>
/// Faults inside the process: a handler that ignores the drain deadline and a start-up gate that ignores cancellation.
/// Each case asserts that nothing else is lost and that the stop ends inside the budget. (Faults that need a real process —
/// SIGTERM during warm-up, configuration reload mid-drain, Eureka failing — are in the integration tests' FaultMatrixTests.)
/// </summary>
public sealed class FaultMatrixTests
{
    private static readonly TimeSpan Safety = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task StartupGate_ThatNeverCompletesAndIgnoresCancellation_StopEndsAtOnce_NeverReady()
    {
        var gateToken = new TaskCompletionSource<CancellationToken>(TaskCreationOptions.RunContinuationsAsynchronously);
        var never = new TaskCompletionSource();
        WebApplication app = await TestHostBuilder.StartAsync(new FakeTimeProvider(), services: s => s.AddGracefulShutdown()
            .AddStartupGate("stuck", (_, cancellationToken) =>
            {
                gateToken.SetResult(cancellationToken);
                return never.Task;
            }));
        try
        {
            CancellationToken token = await gateToken.Task.WaitAsync(Safety);
            HttpResponseMessage ready = await app.GetTestClient().GetAsync("/health/ready");
            HttpResponseMessage served = await app.GetTestClient().GetAsync("/");

            // Fake time is never advanced: the stop must not depend on any wait.
            await app.StopAsync().WaitAsync(Safety);
            TrafficWaitResult result = await app.TrafficWait().WaitAsync().WaitAsync(Safety);

            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
            Assert.True(token.IsCancellationRequested);
            Assert.False(never.Task.IsCompleted);
            Assert.Equal(TrafficWaitOutcome.SkippedNeverReady, result.Outcome);
            Assert.Equal(GracefulShutdownPhase.Stopped, app.Lifecycle().Phase);
        }
        finally
        {
            never.SetResult();
            await app.DisposeAsync();
        }
    }

    [Fact]
    public async Task Handler_ThatIgnoresTheDrainDeadline_IsAbortedAtTheDrainTimeout_OthersComplete_StopInsideTheBudget()
    {
        var stubbornStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cooperativeStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders().AddFakeLogging();
        builder.Services.AddSingleton(new KubernetesEnvironment(false));
        builder.Services.AddGracefulShutdown(o =>
        {
            o.TrafficWait.Minimum = TimeSpan.Zero;
            o.TrafficWait.QuietPeriod = TimeSpan.Zero;
            o.TrafficWait.Maximum = TimeSpan.Zero;
            o.DrainTimeout = TimeSpan.FromSeconds(1);
            o.DrainCancellationLead = TimeSpan.FromMilliseconds(500);
            o.StopMargin = TimeSpan.FromSeconds(1);
            o.TerminationGracePeriod = TimeSpan.FromSeconds(5);
        });
        WebApplication app = builder.Build();
        app.MapGet("/stubborn", async () =>
        {
            // Ignores RequestAborted and DrainDeadline alike.
            stubbornStarted.SetResult();
            await release.Task;
            return "never";
        });
        app.MapGet("/cooperative", async (HttpContext context) =>
        {
            cooperativeStarted.SetResult();
            await Task.Delay(TimeSpan.FromMilliseconds(300), context.RequestAborted);
            return "done";
        });
        await app.StartAsync();
        try
        {
            string address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
            using var client = new HttpClient { BaseAddress = new Uri(address), Timeout = Safety };
            Task<HttpResponseMessage> stubborn = client.GetAsync("/stubborn");
            Task<HttpResponseMessage> cooperative = client.GetAsync("/cooperative");
            await Task.WhenAll(stubbornStarted.Task, cooperativeStarted.Task).WaitAsync(Safety);
            IGracefulShutdown shutdown = app.Services.GetRequiredService<IGracefulShutdown>();

            // The budget is the pod's grace period; kubelet would SIGKILL after it.
            await app.StopAsync().WaitAsync(TimeSpan.FromSeconds(5));

            HttpResponseMessage done = await cooperative.WaitAsync(Safety);
            Assert.Equal(HttpStatusCode.OK, done.StatusCode);
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => stubborn.WaitAsync(Safety));
            Assert.True(shutdown.DrainDeadline.IsCancellationRequested);
            FakeLogCollector logs = app.Services.GetFakeLogCollector();
            FakeLogRecord timeout = Assert.Single(logs.GetSnapshot(), r => r.Id.Id == 105);
            Assert.Contains("1 requests still in flight were aborted", timeout.Message, StringComparison.Ordinal);
            Assert.Contains(logs.GetSnapshot(), r => r.Id.Id == 106);
        }
        finally
        {
            release.SetResult();
            await app.DisposeAsync();
        }
    }
}
