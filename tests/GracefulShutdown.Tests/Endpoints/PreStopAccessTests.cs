using System.Net;
using System.Text.Json;
using GracefulShutdown.Lifecycle;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace GracefulShutdown.Tests.Endpoints;

/// <summary>
/// Who may call preStop with nothing configured: loopback outside Kubernetes, nobody inside it (a same-pod proxy connects
/// from loopback), unless <c>PreStop:AllowLoopback</c> says otherwise. A token or a management port admits callers anywhere.
/// </summary>
public sealed class PreStopAccessTests : IAsyncDisposable
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

    private async Task<WebApplication> StartAsync(bool kubernetes, Action<GracefulShutdownOptions>? configure = null) =>
        _app = await TestHostBuilder.StartAsync(_time, configure, s => s.AddLogging(b => b.AddFakeLogging()), kubernetes: kubernetes);

    private static async Task<(int Status, string Body)> PreStopAsync(WebApplication app, string remoteIp, string? token = null, int localPort = 80)
    {
        HttpContext context = await app.GetTestServer().SendAsync(c =>
        {
            c.Request.Path = "/lifecycle/prestop";
            c.Request.QueryString = new QueryString("?wait=false");
            c.Connection.RemoteIpAddress = IPAddress.Parse(remoteIp);
            c.Connection.LocalPort = localPort;
            if (token is not null)
            {
                c.Request.Headers["X-PreStop-Token"] = token;
            }
        });
        using var reader = new StreamReader(context.Response.Body);
        return (context.Response.StatusCode, await reader.ReadToEndAsync());
    }

    // ASP.NET Core's own events reuse small ids (Hosting's 2 is "Request finished"): only the library's categories count.
    private static IEnumerable<FakeLogRecord> Library(WebApplication app) =>
        app.Services.GetFakeLogCollector().GetSnapshot().Where(static r => r.Category?.StartsWith("GracefulShutdown", StringComparison.Ordinal) == true);

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.6")]
    [InlineData("::1")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("10.244.1.7")]
    public async Task InKubernetes_WithNothingConfigured_EveryCallerIsRefused_AndNothingChanges(string remoteIp)
    {
        WebApplication app = await StartAsync(kubernetes: true);

        (int status, string body) = await PreStopAsync(app, remoteIp);

        Assert.Equal(403, status);
        using JsonDocument problem = JsonDocument.Parse(body);
        string detail = problem.RootElement.GetProperty("detail").GetString()!;
        Assert.Contains("inside Kubernetes no caller may call it", detail, StringComparison.Ordinal);
        Assert.Contains("GracefulShutdown:PreStop:AllowLoopback=true", detail, StringComparison.Ordinal);
        Assert.Equal(GracefulShutdownPhase.Running, app.Lifecycle().Phase);
        Assert.Contains(Library(app), r => r.Id.Id == 301 && r.Message.Contains(IPAddress.Parse(remoteIp).ToString(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task InKubernetes_WithNothingConfigured_StartupWarningSaysWhatToSet()
    {
        WebApplication app = await StartAsync(kubernetes: true);

        FakeLogRecord warning = Assert.Single(Library(app), r => r.Id.Id == 2);

        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("refuses every caller", warning.Message, StringComparison.Ordinal);
        Assert.Contains("GracefulShutdown:ManagementPort", warning.Message, StringComparison.Ordinal);
        Assert.Contains("GracefulShutdown:PreStop:Token", warning.Message, StringComparison.Ordinal);
        Assert.Contains("GracefulShutdown:PreStop:AllowLoopback=true", warning.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("127.0.0.1", 202)]
    [InlineData("::1", 202)]
    [InlineData("10.244.1.7", 403)]
    public async Task InKubernetes_WithAllowLoopback_LoopbackIsAccepted_OthersStillRefused(string remoteIp, int expected)
    {
        WebApplication app = await StartAsync(kubernetes: true, o => o.PreStop.AllowLoopback = true);

        (int status, _) = await PreStopAsync(app, remoteIp);

        Assert.Equal(expected, status);
        Assert.Equal(LogLevel.Information, Assert.Single(Library(app), r => r.Id.Id == 2).Level);
    }

    [Theory]
    [InlineData("127.0.0.1", 202)]
    [InlineData("127.0.0.6", 202)]
    [InlineData("10.244.1.7", 403)]
    public async Task OutsideKubernetes_WithNothingConfigured_LoopbackStaysAllowed(string remoteIp, int expected)
    {
        WebApplication app = await StartAsync(kubernetes: false);

        (int status, _) = await PreStopAsync(app, remoteIp);

        Assert.Equal(expected, status);
    }

    [Fact]
    public async Task OutsideKubernetes_AllowLoopbackFalse_RefusesLoopback()
    {
        WebApplication app = await StartAsync(kubernetes: false, o => o.PreStop.AllowLoopback = false);

        (int status, string body) = await PreStopAsync(app, "127.0.0.1");

        Assert.Equal(403, status);
        Assert.Contains("AllowLoopback is false", body, StringComparison.Ordinal);
        Assert.Equal(GracefulShutdownPhase.Running, app.Lifecycle().Phase);
    }

    [Fact]
    public async Task InKubernetes_WithAToken_TheTokenIsWhatCounts_FromLoopbackOrNot()
    {
        WebApplication app = await StartAsync(kubernetes: true, o => o.PreStop.Token = "t0ken");

        (int sidecarWithout, _) = await PreStopAsync(app, "127.0.0.6");
        (int sidecarWrong, _) = await PreStopAsync(app, "127.0.0.6", "nope");
        Assert.Equal(GracefulShutdownPhase.Running, app.Lifecycle().Phase);
        (int kubelet, _) = await PreStopAsync(app, "10.244.0.1", "t0ken");

        Assert.Equal(403, sidecarWithout);
        Assert.Equal(403, sidecarWrong);
        Assert.Equal(202, kubelet);
        Assert.DoesNotContain(Library(app), r => r.Id.Id == 2);
    }

    [Fact]
    public async Task InKubernetes_WithAManagementPort_AnyCallerOnThatPortIsAccepted()
    {
        WebApplication app = await StartAsync(kubernetes: true, o => o.ManagementPort = 8081);

        (int onAppPort, _) = await PreStopAsync(app, "10.244.0.1", localPort: 8080);
        (int onManagementPort, _) = await PreStopAsync(app, "10.244.0.1", localPort: 8081);

        Assert.Equal(404, onAppPort);
        Assert.Equal(202, onManagementPort);
    }
}
