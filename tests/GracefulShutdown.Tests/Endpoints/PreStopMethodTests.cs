using GracefulShutdown.Lifecycle;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Time.Testing;

namespace GracefulShutdown.Tests.Endpoints;

/// <summary>
/// preStop changes state, so it answers GET only (kubelet's <c>httpGet</c> hook sends GET). HEAD is a safe method (RFC 9110):
/// monitors and link checkers send it, and it must not begin a drain. The probes change nothing and keep answering GET and HEAD.
/// </summary>
public sealed class PreStopMethodTests : IAsyncDisposable
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

    // Outside Kubernetes a loopback caller is admitted: only the method can refuse these requests.
    private async Task<WebApplication> StartAsync(bool routed = false) =>
        _app = await TestHostBuilder.StartAsync(_time, map: routed ? static a => a.MapGracefulShutdownEndpoints() : null);

    private static Task<HttpContext> SendAsync(WebApplication app, string method, string path, string? query = null) =>
        app.GetTestServer().SendAsync(c =>
        {
            c.Request.Method = method;
            c.Request.Path = path;
            c.Request.QueryString = query is null ? default : new QueryString(query);
            c.Connection.RemoteIpAddress = System.Net.IPAddress.Loopback;
        });

    [Theory]
    [InlineData("HEAD")]
    [InlineData("POST")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    [InlineData("PATCH")]
    [InlineData("OPTIONS")]
    public async Task PreStop_AnythingButGet_Answers405AllowGet_AndChangesNothing(string method)
    {
        WebApplication app = await StartAsync();

        HttpContext preStop = await SendAsync(app, method, "/lifecycle/prestop", "?wait=false");
        HttpContext ready = await SendAsync(app, "GET", "/health/ready");

        Assert.Equal(StatusCodes.Status405MethodNotAllowed, preStop.Response.StatusCode);
        Assert.Equal("GET", preStop.Response.Headers.Allow.ToString());
        Assert.Equal(GracefulShutdownPhase.Running, app.Lifecycle().Phase);
        Assert.Equal(StatusCodes.Status200OK, ready.Response.StatusCode);
    }

    [Fact]
    public async Task PreStop_Head_MappedAsARoute_Answers405AllowGet_AndChangesNothing()
    {
        WebApplication app = await StartAsync(routed: true);

        HttpContext preStop = await SendAsync(app, "HEAD", "/lifecycle/prestop", "?wait=false");

        Assert.Equal(StatusCodes.Status405MethodNotAllowed, preStop.Response.StatusCode);
        Assert.Equal("GET", preStop.Response.Headers.Allow.ToString());
        Assert.Equal(GracefulShutdownPhase.Running, app.Lifecycle().Phase);
        Assert.Equal(StatusCodes.Status200OK, (await SendAsync(app, "GET", "/health/ready")).Response.StatusCode);
    }

    [Fact]
    public async Task PreStop_Get_StillBeginsTheDrain()
    {
        WebApplication app = await StartAsync();

        HttpContext preStop = await SendAsync(app, "GET", "/lifecycle/prestop", "?wait=false");

        Assert.Equal(StatusCodes.Status202Accepted, preStop.Response.StatusCode);
        Assert.Equal(GracefulShutdownPhase.Draining, app.Lifecycle().Phase);
    }

    [Theory]
    [InlineData("/health/startup")]
    [InlineData("/health/ready")]
    [InlineData("/health/live")]
    public async Task Probes_AnswerGetAndHead_AndOtherMethodsGet405AllowGetHead(string path)
    {
        WebApplication app = await StartAsync();

        HttpContext get = await SendAsync(app, "GET", path);
        HttpContext head = await SendAsync(app, "HEAD", path);
        HttpContext post = await SendAsync(app, "POST", path);

        Assert.Equal(StatusCodes.Status200OK, get.Response.StatusCode);
        Assert.Equal(StatusCodes.Status200OK, head.Response.StatusCode);
        Assert.Equal(StatusCodes.Status405MethodNotAllowed, post.Response.StatusCode);
        Assert.Equal("GET, HEAD", post.Response.Headers.Allow.ToString());
    }
}
