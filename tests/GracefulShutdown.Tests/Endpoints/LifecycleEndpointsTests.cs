using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using GracefulShutdown.Lifecycle;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Time.Testing;

namespace GracefulShutdown.Tests.Endpoints;

public sealed class LifecycleEndpointsTests : IAsyncDisposable
{
    private static readonly TimeSpan Safety = TimeSpan.FromSeconds(10);
    private readonly FakeTimeProvider _time = new();
    private WebApplication? _app;

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopNowAsync();
        }
    }

    private async Task<WebApplication> StartAsync(Action<GracefulShutdownOptions>? configure = null, Action<IServiceCollection>? services = null,
        Action<WebApplication>? map = null) =>
        _app = await TestHostBuilder.StartAsync(_time, configure, services, map);

    private static Task<HttpContext> SendAsync(WebApplication app, string path, string method = "GET", string? remoteIp = "127.0.0.1",
        int localPort = 80, Action<HttpContext>? configure = null) =>
        app.GetTestServer().SendAsync(context =>
        {
            context.Request.Method = method;
            context.Request.Path = path.Split('?')[0];
            context.Request.QueryString = path.Contains('?', StringComparison.Ordinal) ? new QueryString(path[path.IndexOf('?', StringComparison.Ordinal)..]) : default;
            context.Connection.RemoteIpAddress = remoteIp is null ? null : IPAddress.Parse(remoteIp);
            context.Connection.LocalPort = localPort;
            configure?.Invoke(context);
        });

    private static async Task<string> BodyAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Response.Body);
        return await reader.ReadToEndAsync();
    }

    [Fact]
    public async Task Readiness_Running_Returns200Uncached()
    {
        WebApplication app = await StartAsync();

        HttpResponseMessage response = await app.GetTestClient().GetAsync("/health/ready");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Ready", await response.Content.ReadAsStringAsync());
        Assert.True(response.Headers.CacheControl!.NoStore);
        Assert.True(response.Headers.CacheControl.NoCache);
    }

    [Fact]
    public async Task Readiness_WhileAStartupGateIsOpen_Returns503ThenReady()
    {
        var gate = new TaskCompletionSource();
        WebApplication app = await StartAsync(services: s => s.AddGracefulShutdown().AddStartupGate("cache", (_, _) => gate.Task));
        HttpClient client = app.GetTestClient();

        HttpResponseMessage before = await client.GetAsync("/health/ready");
        HttpResponseMessage startupBefore = await client.GetAsync("/health/startup");
        gate.SetResult();
        await app.Lifecycle().WhenReady.WaitAsync(Safety);
        HttpResponseMessage after = await client.GetAsync("/health/ready");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, before.StatusCode);
        Assert.Equal("Starting", await before.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, startupBefore.StatusCode);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/startup")).StatusCode);
    }

    [Fact]
    public async Task Readiness_FailingStartupGate_StaysUnready()
    {
        var failureLogged = new LogEventWaiter(4);
        WebApplication app = await StartAsync(services: s => s.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(failureLogged)
            .AddGracefulShutdown()
            .AddStartupGate("broken", (_, _) => Task.FromException(new InvalidOperationException("boom"))));
        await failureLogged.Logged.WaitAsync(Safety);

        HttpResponseMessage response = await app.GetTestClient().GetAsync("/health/ready");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(GracefulShutdownPhase.Starting, app.Lifecycle().Phase);
    }

    [Fact]
    public async Task Probes_WhileDraining_ReadinessDownLivenessUp()
    {
        WebApplication app = await StartAsync();
        app.Shutdown().BeginDrain(DrainTrigger.SigTerm);
        HttpClient client = app.GetTestClient();

        HttpResponseMessage ready = await client.GetAsync("/health/ready");
        HttpResponseMessage live = await client.GetAsync("/health/live");
        HttpResponseMessage startup = await client.GetAsync("/health/startup");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal("Draining", await ready.Content.ReadAsStringAsync());
        Assert.True(ready.Headers.ConnectionClose);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.OK, startup.StatusCode);
    }

    [Fact]
    public async Task Probes_Head_ReturnStatusWithoutBody()
    {
        WebApplication app = await StartAsync();

        HttpContext context = await SendAsync(app, "/health/ready", "HEAD");

        Assert.Equal(200, context.Response.StatusCode);
        Assert.Equal("", await BodyAsync(context));
    }

    [Fact]
    public async Task Probes_Post_Returns405ProblemDetails()
    {
        WebApplication app = await StartAsync();

        HttpResponseMessage response = await app.GetTestClient().PostAsync("/health/live", null);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains("GET", response.Content.Headers.Allow);
    }

    [Fact]
    public async Task Readiness_TaggedCheckUnhealthy_Returns503AndLivenessIgnoresIt()
    {
        WebApplication app = await StartAsync(services: s => s.AddHealthChecks()
            .AddCheck("db", () => HealthCheckResult.Unhealthy(), [GracefulShutdownTags.Ready]));
        HttpClient client = app.GetTestClient();

        HttpResponseMessage ready = await client.GetAsync("/health/ready");
        HttpResponseMessage live = await client.GetAsync("/health/live");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal("Unhealthy", await ready.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }

    [Fact]
    public async Task Liveness_TaggedCheckUnhealthy_Returns503()
    {
        WebApplication app = await StartAsync(services: s => s.AddHealthChecks()
            .AddCheck("deadlock", () => HealthCheckResult.Unhealthy(), [GracefulShutdownTags.Live]));

        HttpResponseMessage live = await app.GetTestClient().GetAsync("/health/live");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, live.StatusCode);
    }

    [Fact]
    public async Task Readiness_TaggedCheck_RunsOncePerCachePeriod()
    {
        int runs = 0;
        WebApplication app = await StartAsync(services: s => s.AddHealthChecks()
            .AddCheck("counted", () => { Interlocked.Increment(ref runs); return HealthCheckResult.Healthy(); }, [GracefulShutdownTags.Ready]));
        HttpClient client = app.GetTestClient();

        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
        }

        Assert.Equal(1, runs);
        _time.Advance(TimeSpan.FromSeconds(1));
        await client.GetAsync("/health/ready");
        Assert.Equal(2, runs);
    }

    [Fact]
    public async Task Readiness_WhileDraining_RunsNoCheck()
    {
        int runs = 0;
        WebApplication app = await StartAsync(services: s => s.AddHealthChecks()
            .AddCheck("counted", () => { Interlocked.Increment(ref runs); return HealthCheckResult.Unhealthy(); }, [GracefulShutdownTags.Ready]));
        app.Shutdown().BeginDrain(DrainTrigger.PreStop);

        await app.GetTestClient().GetAsync("/health/ready");

        Assert.Equal(0, runs);
    }

    [Fact]
    public async Task AppRequest_WhileDraining_GetsConnectionClose()
    {
        WebApplication app = await StartAsync();
        HttpClient client = app.GetTestClient();

        HttpResponseMessage before = await client.GetAsync("/");
        app.Shutdown().BeginDrain(DrainTrigger.SigTerm);
        HttpResponseMessage during = await client.GetAsync("/");

        Assert.NotEqual(true, before.Headers.ConnectionClose);
        Assert.Equal(HttpStatusCode.OK, during.StatusCode);
        Assert.True(during.Headers.ConnectionClose);
    }

    [Fact]
    public async Task AppRequest_WhileDrainingWithClosingOff_KeepsConnection()
    {
        WebApplication app = await StartAsync(o => o.Connections.CloseKeepAliveWhileDraining = false);
        app.Shutdown().BeginDrain(DrainTrigger.SigTerm);

        HttpResponseMessage during = await app.GetTestClient().GetAsync("/");

        Assert.NotEqual(true, during.Headers.ConnectionClose);
    }

    [Fact]
    public async Task PreStop_FromLoopback_BeginsDrainAndAnswersWhenTheWaitIsOver()
    {
        WebApplication app = await StartAsync();

        Task<HttpContext> preStop = SendAsync(app, "/lifecycle/prestop");
        await WaitForPhaseAsync(app, GracefulShutdownPhase.Draining);
        Assert.False(preStop.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(5));
        HttpContext context = await preStop.WaitAsync(Safety);

        Assert.Equal(200, context.Response.StatusCode);
        Assert.Equal("Traffic wait over (MaximumReached) after 5.000 s.", await BodyAsync(context));
        Assert.Equal(DrainTrigger.PreStop, app.Lifecycle().Trigger);
    }

    [Fact]
    public async Task PreStop_Concurrent_AllAnswerAfterTheSameWait()
    {
        WebApplication app = await StartAsync();

        Task<HttpContext> first = SendAsync(app, "/lifecycle/prestop");
        Task<HttpContext> second = SendAsync(app, "/lifecycle/prestop");
        await WaitForPhaseAsync(app, GracefulShutdownPhase.Draining);
        _time.Advance(TimeSpan.FromSeconds(5));
        HttpContext[] contexts = await Task.WhenAll(first, second).WaitAsync(Safety);

        Assert.All(contexts, c => Assert.Equal(200, c.Response.StatusCode));
        Assert.Same(app.TrafficWait().WaitAsync(), app.TrafficWait().WaitAsync());
    }

    [Fact]
    public async Task PreStop_WaitFalse_Returns202AtOnce()
    {
        WebApplication app = await StartAsync();

        HttpContext context = await SendAsync(app, "/lifecycle/prestop?wait=false").WaitAsync(Safety);

        Assert.Equal(202, context.Response.StatusCode);
        Assert.Equal(GracefulShutdownPhase.Draining, app.Lifecycle().Phase);
    }

    [Theory]
    [InlineData("10.1.2.3")]
    [InlineData("192.168.0.7")]
    [InlineData("::ffff:10.0.0.1")]
    [InlineData(null)]
    public async Task PreStop_FromNonLoopback_Returns403AndChangesNothing(string? remoteIp)
    {
        WebApplication app = await StartAsync();

        HttpContext context = await SendAsync(app, "/lifecycle/prestop", remoteIp: remoteIp);

        Assert.Equal(403, context.Response.StatusCode);
        Assert.Equal("application/problem+json", context.Response.ContentType);
        Assert.Equal(GracefulShutdownPhase.Running, app.Lifecycle().Phase);
    }

    [Theory]
    [InlineData("::1")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("127.0.0.2")]
    public async Task PreStop_FromAnyLoopbackForm_IsAccepted(string remoteIp)
    {
        WebApplication app = await StartAsync();

        HttpContext context = await SendAsync(app, "/lifecycle/prestop?wait=false", remoteIp: remoteIp);

        Assert.Equal(202, context.Response.StatusCode);
    }

    [Theory]
    [InlineData("/lifecycle/prestop?wait=maybe", "'wait' must be given once, as true or false")]
    [InlineData("/lifecycle/prestop?wait=true&wait=false", "'wait' must be given once")]
    [InlineData("/lifecycle/prestop?force=1", "Unknown query parameter 'force'")]
    public async Task PreStop_Malformed_Returns400ProblemAndChangesNothing(string path, string detail)
    {
        WebApplication app = await StartAsync();

        HttpContext context = await SendAsync(app, path);

        Assert.Equal(400, context.Response.StatusCode);
        Assert.Equal("application/problem+json", context.Response.ContentType);
        using JsonDocument problem = JsonDocument.Parse(await BodyAsync(context));
        Assert.Contains(detail, problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(GracefulShutdownPhase.Running, app.Lifecycle().Phase);
    }

    [Fact]
    public async Task PreStop_MalformedFromNonLoopback_Returns400NotInformationAboutAccess()
    {
        WebApplication app = await StartAsync();

        HttpContext context = await SendAsync(app, "/lifecycle/prestop?wait=x", remoteIp: "10.0.0.9");

        Assert.Equal(400, context.Response.StatusCode);
        Assert.Equal(GracefulShutdownPhase.Running, app.Lifecycle().Phase);
    }

    [Fact]
    public async Task PreStop_WithToken_AcceptsTheRightTokenFromAnywhereOnly()
    {
        WebApplication app = await StartAsync(o => o.PreStop.Token = "s3cret");

        HttpContext noToken = await SendAsync(app, "/lifecycle/prestop?wait=false", remoteIp: "127.0.0.1");
        HttpContext wrong = await SendAsync(app, "/lifecycle/prestop?wait=false", remoteIp: "10.0.0.9",
            configure: c => c.Request.Headers["X-PreStop-Token"] = "guess");
        HttpContext twice = await SendAsync(app, "/lifecycle/prestop?wait=false", remoteIp: "10.0.0.9",
            configure: c => c.Request.Headers["X-PreStop-Token"] = new(["s3cret", "s3cret"]));
        Assert.Equal(GracefulShutdownPhase.Running, app.Lifecycle().Phase);
        HttpContext right = await SendAsync(app, "/lifecycle/prestop?wait=false", remoteIp: "10.0.0.9",
            configure: c => c.Request.Headers["X-PreStop-Token"] = "s3cret");

        Assert.Equal(403, noToken.Response.StatusCode);
        Assert.Equal(403, wrong.Response.StatusCode);
        Assert.Equal(400, twice.Response.StatusCode);
        Assert.Equal(202, right.Response.StatusCode);
        Assert.Equal(GracefulShutdownPhase.Draining, app.Lifecycle().Phase);
    }

    [Fact]
    public async Task ManagementPort_EndpointsAnswerOnlyThere()
    {
        WebApplication app = await StartAsync(o => o.ManagementPort = 8081);

        HttpContext appPortReady = await SendAsync(app, "/health/ready", localPort: 8080);
        HttpContext appPortPreStop = await SendAsync(app, "/lifecycle/prestop?wait=false", localPort: 8080);
        Assert.Equal(GracefulShutdownPhase.Running, app.Lifecycle().Phase);
        HttpContext managementReady = await SendAsync(app, "/health/ready", localPort: 8081);
        HttpContext managementPreStop = await SendAsync(app, "/lifecycle/prestop?wait=false", remoteIp: "10.0.0.9", localPort: 8081);

        Assert.Equal(404, appPortReady.Response.StatusCode);
        Assert.Equal(404, appPortPreStop.Response.StatusCode);
        Assert.Equal(200, managementReady.Response.StatusCode);
        Assert.Equal(202, managementPreStop.Response.StatusCode);
    }

    [Fact]
    public async Task Probes_AreNotTraffic()
    {
        // An idle replica (10 minutes without a request) ends its wait at the minimum, unless probes counted as traffic.
        WebApplication app = await StartAsync(configure: o => o.TrafficWait.Maximum = TimeSpan.FromSeconds(15));
        for (int second = 0; second < 601; second++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        GracefulShutdownService shutdown = app.Shutdown();
        shutdown.BeginDrain(DrainTrigger.SigTerm);
        Task<TrafficWaitResult> wait = app.TrafficWait().WaitAsync();
        HttpClient client = app.GetTestClient();

        for (int i = 0; i < 5; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            await client.GetAsync("/health/ready");
            await client.GetAsync("/health/live");
        }

        TrafficWaitResult result = await wait.WaitAsync(Safety);
        Assert.Equal(TrafficWaitOutcome.Idle, result.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(5), result.Elapsed);
        Assert.Equal(0, result.RequestsDuringWait);
    }

    [Fact]
    public async Task MapGracefulShutdownEndpoints_MapsThemAndTurnsAutomaticMappingOff()
    {
        WebApplication app = await StartAsync(map: a => a.MapGroup("/ops").MapGracefulShutdownEndpoints());
        HttpClient client = app.GetTestClient();

        HttpResponseMessage routed = await client.GetAsync("/ops/health/ready");
        HttpResponseMessage automatic = await client.GetAsync("/health/ready");

        Assert.Equal(HttpStatusCode.OK, routed.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, automatic.StatusCode);
    }

    [Fact]
    public async Task MapGracefulShutdownEndpoints_AtTheConfiguredPaths_ProbesStillAreNotTraffic()
    {
        WebApplication app = await StartAsync(map: a => a.MapGracefulShutdownEndpoints());
        GracefulShutdownService shutdown = app.Shutdown();
        shutdown.BeginDrain(DrainTrigger.SigTerm);

        HttpResponseMessage ready = await app.GetTestClient().GetAsync("/health/ready");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal(0, app.Services.GetRequiredService<RequestTracker>().InFlight);
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(0, (await app.TrafficWait().WaitAsync().WaitAsync(Safety)).RequestsDuringWait);
    }

    [Fact]
    public async Task MapGracefulShutdownEndpoints_WithManagementPort_DecidesByTheLocalPortNotTheHostHeader()
    {
        WebApplication app = await StartAsync(o => o.ManagementPort = 8081, map: a => a.MapGracefulShutdownEndpoints());

        HttpContext spoofed = await SendAsync(app, "/lifecycle/prestop?wait=false", remoteIp: "10.0.0.9", localPort: 8080,
            configure: c => c.Request.Host = new HostString("pod", 8081));
        Assert.Equal(GracefulShutdownPhase.Running, app.Lifecycle().Phase);
        HttpContext management = await SendAsync(app, "/lifecycle/prestop?wait=false", remoteIp: "10.0.0.9", localPort: 8081);

        Assert.Equal(404, spoofed.Response.StatusCode);
        Assert.Equal(202, management.Response.StatusCode);
    }

    private static async Task WaitForPhaseAsync(WebApplication app, GracefulShutdownPhase phase)
    {
        GracefulShutdownService shutdown = app.Shutdown();
        if (app.Lifecycle().Phase >= phase)
        {
            return;
        }

        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using CancellationTokenRegistration registration = app.Lifecycle().DrainStarted.Register(reached.SetResult);
        await reached.Task.WaitAsync(Safety);
    }
}
