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
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace GracefulShutdown.Tests.Startup;

/// <summary>Sidecar:ReadyUrl holds readiness until the sidecar is ready; Sidecar:DrainDuration warns when the sidecar would stop first.</summary>
public sealed class SidecarGateTests : IAsyncDisposable
{
    private static readonly TimeSpan Safety = TimeSpan.FromSeconds(10);
    private WebApplication? _app;
    private WebApplication? _sidecar;

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopNowAsync();
        }

        if (_sidecar is not null)
        {
            await _sidecar.StopAsync();
            await _sidecar.DisposeAsync();
        }
    }

    /// <summary>A stand-in for Istio's pilot-agent readiness endpoint on real Kestrel: 503 until <paramref name="ready"/> says otherwise.</summary>
    private async Task<Uri> StartSidecarAsync(Func<bool> ready, Action onRequest)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        _sidecar = builder.Build();
        _sidecar.MapGet("/healthz/ready", () =>
        {
            onRequest();
            return ready() ? Results.Ok() : Results.StatusCode(503);
        });
        await _sidecar.StartAsync();
        string address = _sidecar.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new Uri(new Uri(address), "/healthz/ready");
    }

    [Fact]
    public async Task ReadyUrl_HoldsReadinessUntilTheSidecarAnswers2xx()
    {
        bool sidecarReady = false;
        int polls = 0;
        var secondPoll = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Uri readyUrl = await StartSidecarAsync(() => Volatile.Read(ref sidecarReady), () =>
        {
            if (Interlocked.Increment(ref polls) == 2)
            {
                secondPoll.TrySetResult();
            }
        });

        // Real time here: the gate polls a real server, and the test waits on its requests, not on a clock.
        _app = await TestHostBuilder.StartAsync(new FakeTimeProvider(), o =>
        {
            o.Sidecar.ReadyUrl = readyUrl;
            o.Sidecar.PollInterval = TimeSpan.FromMilliseconds(20);
        }, s => s.AddSingleton(TimeProvider.System).AddLogging(b => b.AddFakeLogging()));
        await secondPoll.Task.WaitAsync(Safety);
        HttpResponseMessage readyBefore = await _app.GetTestClient().GetAsync("/health/ready");
        HttpResponseMessage startupBefore = await _app.GetTestClient().GetAsync("/health/startup");
        Volatile.Write(ref sidecarReady, true);
        await _app.Shutdown().WhenReady.WaitAsync(Safety);
        HttpResponseMessage readyAfter = await _app.GetTestClient().GetAsync("/health/ready");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, readyBefore.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, startupBefore.StatusCode);
        Assert.Equal(HttpStatusCode.OK, readyAfter.StatusCode);
        FakeLogRecord ready = Assert.Single(_app.Services.GetFakeLogCollector().GetSnapshot(), r => r.Id.Id == 21 && r.Category!.StartsWith("GracefulShutdown", StringComparison.Ordinal));
        Assert.Contains($"Sidecar ready: {readyUrl} answered 200", ready.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://127.0.0.1:15021/healthz/ready", null, true, "Istio's default terminationDrainDuration")]
    [InlineData("http://127.0.0.1:15021/healthz/ready", "00:00:30", false, "")]
    [InlineData("http://127.0.0.1:4191/ready", "00:00:05", true, "GracefulShutdown:Sidecar:DrainDuration")]
    [InlineData("http://127.0.0.1:4191/ready", null, false, "")]
    [InlineData(null, "00:00:12", true, "GracefulShutdown:Sidecar:DrainDuration")]
    [InlineData(null, "00:00:13", false, "")]
    [InlineData(null, null, false, "")]
    public async Task DrainDuration_ShorterThanTheDrainAfterSigTerm_Warns(string? readyUrl, string? drainDuration, bool warns, string source)
    {
        // DrainTimeout 10 s + StopMargin 3 s = 13 s after SIGTERM.
        _app = await TestHostBuilder.StartAsync(new FakeTimeProvider(), o =>
        {
            o.Sidecar.ReadyUrl = readyUrl is null ? null : new Uri(readyUrl);
            o.Sidecar.DrainDuration = drainDuration is null ? null : TimeSpan.Parse(drainDuration, System.Globalization.CultureInfo.InvariantCulture);
        }, s => s.AddLogging(b => b.AddFakeLogging()));

        FakeLogRecord[] warnings = [.. _app.Services.GetFakeLogCollector().GetSnapshot()
            .Where(static r => r.Id.Id == 20 && r.Category!.StartsWith("GracefulShutdown", StringComparison.Ordinal))];

        if (warns)
        {
            FakeLogRecord warning = Assert.Single(warnings);
            Assert.Equal(LogLevel.Warning, warning.Level);
            Assert.Contains(source, warning.Message, StringComparison.Ordinal);
        }
        else
        {
            Assert.Empty(warnings);
        }
    }

    [Theory]
    [InlineData("/healthz/ready", "00:00:00.500", "GracefulShutdown:Sidecar:ReadyUrl ('/healthz/ready') must be an absolute http or https URL")]
    [InlineData("ftp://127.0.0.1/ready", "00:00:00.500", "GracefulShutdown:Sidecar:ReadyUrl ('ftp://127.0.0.1/ready') must be an absolute http or https URL")]
    [InlineData("http://127.0.0.1:15021/healthz/ready", "00:00:00", "GracefulShutdown:Sidecar:PollInterval (00:00:00) must be greater than zero")]
    public void Validation_NamesTheKeyAndValue(string readyUrl, string pollInterval, string message)
    {
        var options = new GracefulShutdownOptions
        {
            Sidecar = { ReadyUrl = new Uri(readyUrl, UriKind.RelativeOrAbsolute), PollInterval = TimeSpan.Parse(pollInterval, System.Globalization.CultureInfo.InvariantCulture) },
        };

        ValidateOptionsResult result = new GracefulShutdownOptionsValidator().Validate(null, options);

        Assert.Contains(result.Failures!, f => f.StartsWith(message, StringComparison.Ordinal));
    }
}
