using System.Net;
using GracefulShutdown.Hosting;
using GracefulShutdown.Lifecycle;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace GracefulShutdown.Tests.Endpoints;

/// <summary>
/// Endpoints:ReadinessFailureDelay: how long readiness keeps passing after the drain begins (terminating endpoints stay
/// <c>serving</c>). 0 fails at once; up to Maximum; never past the end of the traffic wait.
/// </summary>
public sealed class ReadinessFailureDelayTests : IAsyncDisposable
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

    private async Task<WebApplication> StartAsync(TimeSpan delay) =>
        _app = await TestHostBuilder.StartAsync(_time, o =>
        {
            o.TrafficWait.Minimum = TimeSpan.FromSeconds(5);
            o.TrafficWait.Maximum = TimeSpan.FromSeconds(15);
            o.Endpoints.ReadinessFailureDelay = delay;
        });

    private static async Task<(HttpStatusCode Status, string Body)> ReadyAsync(WebApplication app)
    {
        HttpResponseMessage response = await app.GetTestClient().GetAsync("/health/ready");
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static Task<TrafficWaitResult> BeginDrainAsync(WebApplication app) => app.Shutdown().DrainAndWaitAsync(DrainTrigger.SigTerm);

    [Fact]
    public async Task Default_FailsAtOnce()
    {
        WebApplication app = await StartAsync(TimeSpan.Zero);

        _ = BeginDrainAsync(app);

        Assert.Equal((HttpStatusCode.ServiceUnavailable, "Draining"), await ReadyAsync(app));
    }

    [Fact]
    public async Task Delay_PassesUntilItElapses_ThenFails_LivenessStaysUp()
    {
        WebApplication app = await StartAsync(TimeSpan.FromSeconds(3));

        _ = BeginDrainAsync(app);
        (HttpStatusCode, string) atStart = await ReadyAsync(app);
        _time.Advance(TimeSpan.FromSeconds(3) - TimeSpan.FromMilliseconds(1));
        (HttpStatusCode, string) justBefore = await ReadyAsync(app);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        (HttpStatusCode, string) atDelay = await ReadyAsync(app);
        HttpResponseMessage live = await app.GetTestClient().GetAsync("/health/live");

        Assert.Equal((HttpStatusCode.OK, "Ready"), atStart);
        Assert.Equal((HttpStatusCode.OK, "Ready"), justBefore);
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "Draining"), atDelay);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(GracefulShutdownPhase.Draining, app.Lifecycle().Phase);
    }

    [Fact]
    public async Task DelayOfMaximum_PassesForTheWholeWait_AndFailsWhenTheWaitEndsEarly()
    {
        WebApplication app = await StartAsync(TimeSpan.FromSeconds(15));

        Task<TrafficWaitResult> wait = BeginDrainAsync(app);
        _time.Advance(TimeSpan.FromSeconds(14));
        (HttpStatusCode, string) during = await ReadyAsync(app);

        // The wait ends before the delay does (here a second signal; an idle service ends it the same way).
        app.TrafficWait().Skip(TrafficWaitOutcome.SkippedBySecondSignal);
        TrafficWaitResult result = await wait.WaitAsync(TimeSpan.FromSeconds(10));
        (HttpStatusCode, string) afterTheWait = await ReadyAsync(app);

        Assert.Equal((HttpStatusCode.OK, "Ready"), during);
        Assert.True(result.Elapsed < TimeSpan.FromSeconds(15), $"the wait ended at {result.Elapsed}");
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "Draining"), afterTheWait);
    }

    [Fact]
    public async Task Delay_NeverMakesAnInstanceThatWasNeverReadyPass()
    {
        var gate = new TaskCompletionSource();
        _app = await TestHostBuilder.StartAsync(_time, o =>
            {
                o.TrafficWait.Maximum = TimeSpan.FromSeconds(15);
                o.Endpoints.ReadinessFailureDelay = TimeSpan.FromSeconds(10);
            },
            s => s.AddGracefulShutdown().AddStartupGate("pending", (_, _) => gate.Task));

        _ = BeginDrainAsync(_app);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await ReadyAsync(_app)).Status);
        gate.SetResult();
    }

    // ReadinessLost: what push-based surfaces (gRPC health Watch) register on; canceled exactly when the HTTP probe turns 503 for good.

    private static CancellationToken ReadinessLost(WebApplication app) => app.Services.GetRequiredService<IGracefulShutdownProbes>().ReadinessLost;

    private static async Task WhenCanceledAsync(CancellationToken token)
    {
        var canceled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using CancellationTokenRegistration registration = token.Register(canceled.SetResult);
        await canceled.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task ReadinessLost_WithoutADelay_IsCanceledWhenTheDrainBegins()
    {
        WebApplication app = await StartAsync(TimeSpan.Zero);
        bool lostWhileRunning = ReadinessLost(app).IsCancellationRequested;

        _ = BeginDrainAsync(app);
        await WhenCanceledAsync(ReadinessLost(app));

        Assert.False(lostWhileRunning);
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "Draining"), await ReadyAsync(app));
    }

    [Fact]
    public async Task ReadinessLost_WithADelay_IsCanceledWhenTheDelayPasses_NotBefore()
    {
        WebApplication app = await StartAsync(TimeSpan.FromSeconds(3));

        _ = BeginDrainAsync(app);
        await WhenCanceledAsync(app.Lifecycle().DrainStarted);
        _time.Advance(TimeSpan.FromSeconds(3) - TimeSpan.FromMilliseconds(1));
        bool lostJustBefore = ReadinessLost(app).IsCancellationRequested;
        (HttpStatusCode, string) justBefore = await ReadyAsync(app);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        await WhenCanceledAsync(ReadinessLost(app));

        Assert.False(lostJustBefore);
        Assert.Equal((HttpStatusCode.OK, "Ready"), justBefore);
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "Draining"), await ReadyAsync(app));
        Assert.False(app.TrafficWait().Ended.IsCancellationRequested);
    }

    [Fact]
    public async Task ReadinessLost_IsCanceledWhenTheTrafficWaitEndsBeforeTheDelay()
    {
        WebApplication app = await StartAsync(TimeSpan.FromSeconds(15));

        Task<TrafficWaitResult> wait = BeginDrainAsync(app);
        _time.Advance(TimeSpan.FromSeconds(14));
        bool lostDuringTheDelay = ReadinessLost(app).IsCancellationRequested;
        app.TrafficWait().Skip(TrafficWaitOutcome.SkippedBySecondSignal);
        await wait.WaitAsync(TimeSpan.FromSeconds(10));
        await WhenCanceledAsync(ReadinessLost(app));

        Assert.False(lostDuringTheDelay);
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "Draining"), await ReadyAsync(app));
    }

    [Fact]
    public async Task ReadinessLost_ForAnInstanceThatWasNeverReady_IsCanceledWhenTheDrainBegins_WhateverTheDelay()
    {
        var gate = new TaskCompletionSource();
        _app = await TestHostBuilder.StartAsync(_time, o =>
            {
                o.TrafficWait.Maximum = TimeSpan.FromSeconds(15);
                o.Endpoints.ReadinessFailureDelay = TimeSpan.FromSeconds(10);
            },
            s => s.AddGracefulShutdown().AddStartupGate("pending", (_, _) => gate.Task));

        _ = BeginDrainAsync(_app);
        await WhenCanceledAsync(ReadinessLost(_app));
        gate.SetResult();
    }

    [Theory]
    [InlineData("-00:00:01", "GracefulShutdown:Endpoints:ReadinessFailureDelay (-00:00:01) must not be negative.")]
    [InlineData("00:00:16", "GracefulShutdown:Endpoints:ReadinessFailureDelay (00:00:16) must not exceed GracefulShutdown:TrafficWait:Maximum (00:00:15).")]
    public void Validation_NamesTheKeyAndValue(string value, string message)
    {
        var options = new GracefulShutdownOptions
        {
            TrafficWait = { Maximum = TimeSpan.FromSeconds(15) },
            Endpoints = { ReadinessFailureDelay = TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture) },
        };

        Microsoft.Extensions.Options.ValidateOptionsResult result = new GracefulShutdownOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(message, result.Failures!);
    }
}
