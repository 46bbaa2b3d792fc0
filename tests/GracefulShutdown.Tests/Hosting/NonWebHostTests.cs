using System.Net;
using System.Net.Sockets;
using GracefulShutdown.Endpoints;
using GracefulShutdown.Lifecycle;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulShutdown.Tests.Hosting;

/// <summary>
/// A host without a web server (<c>Host.CreateApplicationBuilder</c>, a Worker Service): the same lifecycle, no traffic wait, and
/// the probes and preStop hook on the management port served by the library's own listener, over a real socket on 127.0.0.1.
/// </summary>
public sealed class NonWebHostTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task WorkerHost_ServesTheProbesOnTheManagementPort_AndReadinessFailsAtOnceWhenTheDrainBegins()
    {
        int port = FreePort();
        using IHost host = Build(port);
        await host.StartAsync();
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = s_bound };
        IGracefulShutdown shutdown = host.Services.GetRequiredService<IGracefulShutdown>();
        await shutdown.WhenReady.WaitAsync(s_bound);

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/startup")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/anything-else")).StatusCode);

        // No traffic wait: the drain's wait ends at once, as SkippedNoServer.
        await shutdown.DrainAsync().WaitAsync(s_bound);
        TrafficWaitResult wait = await host.Services.GetRequiredService<TrafficWait>().WaitAsync();
        Assert.Equal(TrafficWaitOutcome.SkippedNoServer, wait.Outcome);
        Assert.True(shutdown.DrainStarted.IsCancellationRequested);
        Assert.True(shutdown.TrafficWaitEnded.IsCancellationRequested);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/health/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);

        await host.StopAsync().WaitAsync(s_bound);
        Assert.Equal(GracefulShutdownPhase.Stopped, shutdown.Phase);
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => client.GetAsync("/health/live"));
    }

    [Fact]
    public async Task WorkerHost_PreStopOnTheManagementPort_AnswersAtOnce_AndWorkInHandIsWaitedFor()
    {
        int port = FreePort();
        using IHost host = Build(port);
        await host.StartAsync();
        IGracefulShutdown shutdown = host.Services.GetRequiredService<IGracefulShutdown>();
        await shutdown.WhenReady.WaitAsync(s_bound);
        IDisposable work = shutdown.BeginWork("orders");

        // kubelet's preStop from the node: on the management port any caller is admitted, and with no wait it answers at once.
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = s_bound };
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/lifecycle/prestop")).StatusCode);
        Assert.Equal(GracefulShutdownPhase.Draining, shutdown.Phase);

        // The host's stop waits for the unit in hand, then stops.
        Task stopping = host.StopAsync();
        Assert.False(stopping.IsCompleted);
        work.Dispose();
        await stopping.WaitAsync(s_bound);
        Assert.Equal(GracefulShutdownPhase.Stopped, shutdown.Phase);
    }

    [Fact]
    public async Task WorkerHost_WithoutManagementPort_StillDrainsWithoutTrafficWait()
    {
        using IHost host = Build(port: null);
        await host.StartAsync();
        IGracefulShutdown shutdown = host.Services.GetRequiredService<IGracefulShutdown>();
        await shutdown.DrainAsync().WaitAsync(s_bound);
        Assert.Equal(TrafficWaitOutcome.SkippedNoServer, (await host.Services.GetRequiredService<TrafficWait>().WaitAsync()).Outcome);
        await host.StopAsync().WaitAsync(s_bound);
    }

    [Fact]
    public async Task TcpProbePorts_ListenWhileTheProbePasses_TheReadinessPortClosesWhenTheDrainBegins()
    {
        int readiness = FreePort();
        int liveness = FreePort();
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddGracefulShutdown(options =>
        {
            options.Endpoints.TcpReadinessPort = readiness;
            options.Endpoints.TcpLivenessPort = liveness;
        });
        using IHost host = builder.Build();
        await host.StartAsync();
        IGracefulShutdown shutdown = host.Services.GetRequiredService<IGracefulShutdown>();
        await shutdown.WhenReady.WaitAsync(s_bound);
        TcpProbePorts ports = host.Services.GetServices<IHostedService>().OfType<TcpProbePorts>().Single();
        await ports.EvaluateAsync();

        Assert.True(await ConnectsAsync(readiness));
        Assert.True(await ConnectsAsync(liveness));

        // The drain closes the readiness port (when readiness is lost, and at every evaluation after); liveness keeps listening.
        await shutdown.DrainAsync().WaitAsync(s_bound);
        var lost = new TaskCompletionSource();
        using CancellationTokenRegistration registration = host.Services.GetRequiredService<IGracefulShutdownProbes>().ReadinessLost
            .Register(lost.SetResult);
        await lost.Task.WaitAsync(s_bound);
        await ports.EvaluateAsync();
        Assert.False(await ConnectsAsync(readiness));
        Assert.True(await ConnectsAsync(liveness));

        await host.StopAsync().WaitAsync(s_bound);
        Assert.False(await ConnectsAsync(liveness));
    }

    [Fact]
    public async Task WorkerHost_InvalidBudget_FailsStartUpNamingTheKeys()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["GracefulShutdown:DrainTimeout"] = "00:01:00" });
        builder.Services.AddGracefulShutdown();

        var exception = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            using IHost host = builder.Build();
            await host.StartAsync();
        });

        Assert.Contains("GracefulShutdown:DrainTimeout (00:01:00)", exception.Message);
    }

    private static IHost Build(int? port)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddGracefulShutdown(options => options.ManagementPort = port);
        return builder.Build();
    }

    private static async Task<bool> ConnectsAsync(int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port).WaitAsync(s_bound);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
