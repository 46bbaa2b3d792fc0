using GracefulShutdown.Kubernetes.Hosting;
using k8s.Models;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.AspNetCore.Hosting.Server;
using Moq;

namespace GracefulShutdown.Kubernetes.Tests;

/// <summary>
/// <c>AddGracefulShutdown().AddKubernetes()</c> in a real host with a scripted API: registration, strict options, start-up that
/// never waits for the API, and the facts reaching the core's budget and readiness.
/// </summary>
public sealed class AddKubernetesTests : IAsyncDisposable
{
    private static readonly TimeSpan Safety = TimeSpan.FromSeconds(10);
    private readonly WaitReportingTimeProvider _time = new();
    private readonly FakeKubernetesApi _api = new();
    private readonly FakeLogCollector _logs = new();
    private IHost? _host;

    public async ValueTask DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.StopAsync(CancellationToken.None).WaitAsync(Safety);
            _host.Dispose();
        }
    }

    private IHost Build(Dictionary<string, string?>? settings = null, bool fakeTarget = true, bool webServer = false)
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings ?? []);
        builder.Logging.AddProvider(new FakeLoggerProvider(_logs));
        builder.Services.AddSingleton<TimeProvider>(_time);
        builder.Services.AddGracefulShutdown().AddKubernetes().AddKubernetes();
        if (webServer)
        {
            // A web host: the traffic wait runs (a host without a server skips it, and readiness fails at once).
            builder.Services.AddSingleton(Mock.Of<IServer>());
        }

        if (fakeTarget)
        {
            builder.Services.AddSingleton<IKubernetesTargetSource>(new FixedTarget(new KubernetesTarget("web-1", "shop", "https://standin", _api)));
        }

        _host = builder.Build();
        return _host;
    }

    [Fact]
    public void AddKubernetes_Idempotent_OneWatchService()
    {
        IHost host = Build();

        Assert.Single(host.Services.GetServices<IHostedService>().OfType<KubernetesWatchService>());
    }

    [Fact]
    public async Task UnknownKey_StartFailsNamingIt()
    {
        IHost host = Build(new() { ["GracefulShutdown:Kubernetes:HoldReadinesWhileLastEndpoint"] = "false" });

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());
        Assert.Contains("GracefulShutdown:Kubernetes:HoldReadinesWhileLastEndpoint", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidValue_StartFailsNamingKeyAndValue()
    {
        IHost host = Build(new() { ["GracefulShutdown:Kubernetes:RequestTimeout"] = "00:00:00" });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("GracefulShutdown:Kubernetes:RequestTimeout = 00:00:00", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApiDoesNotAnswer_StartUpAndReadinessDoNotWait()
    {
        IHost host = Build(); // nothing scripted: every call hangs

        await host.StartAsync().WaitAsync(Safety);
        IGracefulShutdown shutdown = host.Services.GetRequiredService<IGracefulShutdown>();
        await shutdown.WhenReady.WaitAsync(Safety);
        await _api.WhenCalled("list pods").WaitAsync(Safety);

        var probes = host.Services.GetRequiredService<IGracefulShutdownProbes>();
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy,
            await probes.CheckAsync(GracefulShutdownProbe.Readiness).AsTask().WaitAsync(Safety));
        Assert.False(shutdown.Budget.IsFitted);
    }

    [Fact]
    public async Task PodDeletedWithEightSeconds_TheBudgetIsFittedToIt()
    {
        _api.PodList("10", Objects.Pod(deletion: _time.GetUtcNow().UtcDateTime.AddSeconds(8), grace: 8));
        _api.PodWatch();
        IHost host = Build();

        await host.StartAsync().WaitAsync(Safety);
        await _api.WhenCalled("watch pods").WaitAsync(Safety);

        ShutdownBudget budget = host.Services.GetRequiredService<IGracefulShutdown>().Budget;
        Assert.True(budget.IsFitted);
        Assert.Equal(TimeSpan.FromSeconds(8), budget.TerminationGracePeriod);
        Assert.Equal(TimeSpan.FromSeconds(3), budget.TrafficWaitMaximum); // ShutdownBudget.FitTo's order: 3 s wait, 3 s drain, 1 s stop work
        Assert.Contains(_logs.GetSnapshot(), r => r.Id.Id == 130 && r.Message.Contains("deletionGracePeriodSeconds 8", StringComparison.Ordinal));
    }

    [Fact]
    public async Task LastEndpoint_ReadinessKeepsPassingWhileDraining()
    {
        _api.SliceList(Objects.Slice("web-abc", "web", "1", Objects.Endpoint("web-1")));
        _api.SliceWatch();
        IHost host = Build(webServer: true);
        await host.StartAsync().WaitAsync(Safety);
        IGracefulShutdown shutdown = host.Services.GetRequiredService<IGracefulShutdown>();
        await shutdown.WhenReady.WaitAsync(Safety);
        await _api.WhenCalled("watch endpointslices").WaitAsync(Safety);

        _ = shutdown.DrainAsync();

        var probes = host.Services.GetRequiredService<IGracefulShutdownProbes>();
        Assert.True(shutdown.DrainStarted.IsCancellationRequested);
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy,
            await probes.CheckAsync(GracefulShutdownProbe.Readiness).AsTask().WaitAsync(Safety));
        Assert.Contains(_logs.GetSnapshot(), r => r.Id.Id == 506);
    }

    private sealed class FixedTarget(KubernetesTarget target) : IKubernetesTargetSource
    {
        public KubernetesTarget? Resolve() => target;
    }
}
