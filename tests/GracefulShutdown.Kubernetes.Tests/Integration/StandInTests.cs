using System.Net;
using System.Text.Json.Nodes;
using GracefulShutdown.Kubernetes.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace GracefulShutdown.Kubernetes.Tests.Integration;

/// <summary>
/// A real Kestrel app with the add-on, its kubeconfig pointing at the Kubernetes API stand-in (HTTPS, token, list/watch with
/// resource versions, bookmarks, 410, faults): the facts arrive through real watches, and faults leave the app as without it.
/// </summary>
public sealed class StandInTests : IAsyncDisposable
{
    private const string Namespace = "team";
    private static readonly TimeSpan Safety = TimeSpan.FromSeconds(15);
    private readonly string _directory = Directory.CreateTempSubdirectory("k8s-standin-").FullName;
    private readonly LogEvents _logs = new();
    private KubernetesApiStandIn? _api;
    private WebApplication? _app;
    private HttpClient? _client;

    public async ValueTask DisposeAsync()
    {
        _client?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync(new CancellationTokenSource(Safety).Token);
            await _app.DisposeAsync();
        }

        if (_api is not null)
        {
            await _api.DisposeAsync();
        }

        Directory.Delete(_directory, recursive: true);
    }

    private async Task<KubernetesApiStandIn> StartApiAsync(Func<KubernetesAccess, bool>? authorize = null, TimeSpan? bookmarks = null)
    {
        _api = await KubernetesApiStandIn.StartAsync(new KubernetesApiStandInOptions
        {
            Authorize = authorize,
            BookmarkInterval = bookmarks ?? TimeSpan.FromSeconds(1),
        });
        return _api;
    }

    private async Task<WebApplication> StartAppAsync(string? token = null)
    {
        string kubeconfig = token is null
            ? _api!.WriteKubeconfig(Path.Combine(_directory, "kubeconfig"), Namespace)
            : _api!.WriteKubeconfig(Path.Combine(_directory, "kubeconfig"), Namespace, token);
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders().AddProvider(_logs).SetMinimumLevel(LogLevel.Debug);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["GracefulShutdown:Kubernetes:PodName"] = "web-1",
            ["GracefulShutdown:Kubernetes:PodNamespace"] = Namespace,
            ["GracefulShutdown:Kubernetes:Kubeconfig"] = kubeconfig,
            ["GracefulShutdown:Kubernetes:RequestTimeout"] = "00:00:05",
        });
        builder.Services.AddGracefulShutdown(o =>
        {
            o.TrafficWait.Minimum = TimeSpan.FromMilliseconds(200);
            o.TrafficWait.Maximum = TimeSpan.FromSeconds(10);
            o.DrainTimeout = TimeSpan.FromSeconds(2);
            o.DrainCancellationLead = TimeSpan.FromMilliseconds(500);
            o.StopMargin = TimeSpan.FromSeconds(1);
            o.TerminationGracePeriod = TimeSpan.FromSeconds(15);
        }).AddKubernetes();
        _app = builder.Build();
        await _app.StartAsync().WaitAsync(Safety);
        string address = _app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        _client = new HttpClient { BaseAddress = new Uri(address), Timeout = Safety };
        return _app;
    }

    private IGracefulShutdown Shutdown => _app!.Services.GetRequiredService<IGracefulShutdown>();

    private Task<KubernetesApiCall> WhenCalled(string verb, string resource, long after = 0) =>
        _api!.WaitForCallAsync(c => c.Verb == verb && c.Resource == resource && c.Sequence > after, new CancellationTokenSource(Safety).Token);

    /// <summary>No API fault was logged (the failure message names it in full).</summary>
    private void NoWarning()
    {
        string[] warnings = [.. _logs.Of(502).Select(static r => r.Message)];
        if (warnings.Length > 0)
        {
            Assert.Fail(string.Join(Environment.NewLine, warnings));
        }
    }

    private async Task<HttpStatusCode> ReadinessAsync() => (await _client!.GetAsync("/health/ready")).StatusCode;

    private static JsonObject Pod(string name, DateTimeOffset? deletion = null, long? grace = null, string? disruptionReason = null,
        string? disruptionMessage = null)
    {
        var metadata = new JsonObject { ["name"] = name, ["namespace"] = Namespace, ["labels"] = new JsonObject { ["app"] = "web" } };
        if (deletion is DateTimeOffset at)
        {
            metadata["deletionTimestamp"] = at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
            metadata["deletionGracePeriodSeconds"] = grace;
        }

        var conditions = new JsonArray { new JsonObject { ["type"] = "Ready", ["status"] = "True" } };
        if (disruptionReason is not null)
        {
            conditions.Add(new JsonObject { ["type"] = "DisruptionTarget", ["status"] = "True", ["reason"] = disruptionReason, ["message"] = disruptionMessage });
        }

        return new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Pod",
            ["metadata"] = metadata,
            ["spec"] = new JsonObject { ["containers"] = new JsonArray { new JsonObject { ["name"] = "app", ["image"] = "web" } } },
            ["status"] = new JsonObject { ["phase"] = "Running", ["conditions"] = conditions },
        };
    }

    private static JsonObject Endpoint(string pod, bool ready, bool terminating = false) => new()
    {
        ["addresses"] = new JsonArray { "10.0.0." + (pod == "web-1" ? "1" : "2") },
        ["conditions"] = new JsonObject { ["ready"] = ready, ["serving"] = ready || terminating, ["terminating"] = terminating },
        ["targetRef"] = new JsonObject { ["kind"] = "Pod", ["namespace"] = Namespace, ["name"] = pod },
    };

    private static JsonObject Slice(params JsonObject[] endpoints) => new()
    {
        ["apiVersion"] = "discovery.k8s.io/v1",
        ["kind"] = "EndpointSlice",
        ["metadata"] = new JsonObject
        {
            ["name"] = "web-abcde",
            ["namespace"] = Namespace,
            ["labels"] = new JsonObject { ["kubernetes.io/service-name"] = "web" },
        },
        ["addressType"] = "IPv4",
        ["endpoints"] = new JsonArray([.. endpoints]),
        ["ports"] = new JsonArray { new JsonObject { ["name"] = "http", ["port"] = 8080, ["protocol"] = "TCP" } },
    };

    [Fact]
    public async Task PodDeletedWithAShorterGracePeriod_TheWatchFitsTheBudget()
    {
        KubernetesApiStandIn api = await StartApiAsync();
        api.Apply(Pod("web-1"));
        api.Apply(Slice(Endpoint("web-1", ready: true), Endpoint("web-2", ready: true)));
        await StartAppAsync();
        await WhenCalled("watch", "pods");
        Assert.False(Shutdown.Budget.IsFitted);

        // kubectl delete pod web-1 --grace-period=10 (spec and configuration: 15 s): the API server sets deletionTimestamp to
        // now + 10 s (whole seconds). The time left when the app reads it depends on the machine's load: only the upper bound is
        // certain.
        api.Apply(Pod("web-1", DateTimeOffset.UtcNow.AddSeconds(10), grace: 10));
        await _logs.WhenLogged(130).WaitAsync(Safety);

        ShutdownBudget budget = Shutdown.Budget;
        Assert.True(budget.IsFitted);
        Assert.True(budget.TerminationGracePeriod > TimeSpan.Zero, $"grace {budget.TerminationGracePeriod}");
        Assert.True(budget.TerminationGracePeriod <= TimeSpan.FromSeconds(10), $"grace {budget.TerminationGracePeriod}");
        Assert.True(budget.Total <= budget.TerminationGracePeriod, $"total {budget.Total}, grace {budget.TerminationGracePeriod}");
        Assert.True(budget.TrafficWaitMaximum < TimeSpan.FromSeconds(10), $"wait {budget.TrafficWaitMaximum}"); // configured: 10 s
        Assert.Equal(budget.TerminationGracePeriod - budget.ExitReserve, budget.StopDeadline);
        await Shutdown.DrainAsync().WaitAsync(Safety);
        Assert.True(Shutdown.TrafficWaitEnded.IsCancellationRequested);
        Assert.Contains(_logs.Of(135), r => r.Message.Contains("deletionGracePeriodSeconds 10", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Evicted_TheReasonIsInTheDrainStartLine()
    {
        KubernetesApiStandIn api = await StartApiAsync();
        api.Apply(Pod("web-1", DateTimeOffset.UtcNow.AddSeconds(30), grace: 30, "EvictionByEvictionAPI", "Eviction API: evicting"));
        await StartAppAsync();
        await _logs.WhenLogged(131).WaitAsync(Safety);

        _ = Shutdown.DrainAsync();

        await _logs.WhenLogged(100).WaitAsync(Safety);
        Assert.EndsWith("Reason: EvictionByEvictionAPI: Eviction API: evicting.", Assert.Single(_logs.Of(100)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LastEndpoint_ReadinessHeldWhileDraining_ReleasedWhenTheReplacementIsReady()
    {
        KubernetesApiStandIn api = await StartApiAsync();
        api.Apply(Pod("web-1"));
        api.Apply(Slice(Endpoint("web-1", ready: true)));
        await StartAppAsync();
        await _logs.WhenLogged(506).WaitAsync(Safety);
        await Shutdown.WhenReady.WaitAsync(Safety);

        Task drained = Shutdown.DrainAsync();
        Assert.Equal(HttpStatusCode.OK, await ReadinessAsync());

        // The endpoint controller publishes this pod terminating and, later, the replacement ready.
        api.Apply(Slice(Endpoint("web-1", ready: false, terminating: true), Endpoint("web-2", ready: false)));
        await _logs.WhenLogged(510).WaitAsync(Safety);
        Assert.Equal(HttpStatusCode.OK, await ReadinessAsync());

        var lost = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using CancellationTokenRegistration onLost = _app!.Services.GetRequiredService<IGracefulShutdownProbes>().ReadinessLost.Register(() => lost.TrySetResult());
        api.Apply(Slice(Endpoint("web-1", ready: false, terminating: true), Endpoint("web-2", ready: true)));
        await lost.Task.WaitAsync(Safety);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, await ReadinessAsync());
        Assert.Single(_logs.Of(507));
        await drained.WaitAsync(Safety);

        // The hold kept the traffic wait going (its Minimum, 200 ms, had long passed): it ended only after the release.
        long released = Assert.Single(_logs.Records, static r => r.Id == 507).Sequence;
        long waitEnded = Assert.Single(_logs.Records, static r => r.Id == 102).Sequence;
        Assert.True(released < waitEnded, $"hold released at record {released}, traffic wait ended at record {waitEnded}");
    }

    [Fact]
    public async Task ExpiredResourceVersion_410_ListsAgain_NoWarning()
    {
        // No bookmarks meanwhile: the watch's resource version stays the list's, which the compaction then expires.
        KubernetesApiStandIn api = await StartApiAsync(bookmarks: TimeSpan.FromHours(1));
        api.Apply(Pod("web-1"));
        await StartAppAsync();
        KubernetesApiCall watch = await WhenCalled("watch", "pods");

        api.Apply(Pod("other"));
        api.CompactBefore(api.ResourceVersion);
        api.DropWatches(); // the watch is opened again from its old resource version: ERROR 410 Expired

        await WhenCalled("list", "pods", after: watch.Sequence);
        await WhenCalled("watch", "pods", after: watch.Sequence);
        NoWarning();
        Assert.NotEmpty(_logs.Of(505));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task DroppedWatch_OpenedAgainFromTheLastResourceVersion_NoRelist(bool reset)
    {
        KubernetesApiStandIn api = await StartApiAsync();
        api.Apply(Pod("web-1"));
        await StartAppAsync();
        KubernetesApiCall first = await WhenCalled("watch", "pods");
        api.Apply(Pod("web-1", disruptionReason: "PreemptionByScheduler", disruptionMessage: "preempted"));
        await _logs.WhenLogged(131).WaitAsync(Safety);
        long seen = api.ResourceVersion;

        if (reset)
        {
            api.AbortWatches(); // a cut connection: the client sees an error, not the end of the stream
        }
        else
        {
            api.DropWatches();
        }

        KubernetesApiCall again = await WhenCalled("watch", "pods", after: first.Sequence);
        Assert.True(long.Parse(again.QueryValue("resourceVersion")!, System.Globalization.CultureInfo.InvariantCulture) >= seen);
        Assert.Single(api.Calls, c => c.Verb == "list" && c.Resource == "pods");
        NoWarning();
    }

    public static TheoryData<string, string> Faults => new()
    {
        { "unauthorized", "wrong token" },
        { "forbidden", "no RBAC" },
        { "unreachable", "connection aborted" },
        { "malformed", "broken JSON" },
    };

    [Theory]
    [MemberData(nameof(Faults))]
    public async Task ApiFault_TheAppStartsServesAndDrainsAsWithoutTheAddOn_OneWarning(string fault, string how)
    {
        _ = how;
        KubernetesApiStandIn api = await StartApiAsync(fault == "forbidden" ? static _ => false : null);
        api.Apply(Pod("web-1"));
        api.Apply(Slice(Endpoint("web-1", ready: true)));
        if (fault == "unreachable")
        {
            api.Faults.Unreachable = true;
        }
        else if (fault == "malformed")
        {
            api.Faults.MalformedBodies = true;
        }

        await StartAppAsync(fault == "unauthorized" ? "not-the-token" : null);
        await Shutdown.WhenReady.WaitAsync(Safety);
        Assert.Equal(HttpStatusCode.OK, await ReadinessAsync());
        await _logs.WhenLogged(502).WaitAsync(Safety);

        // Both watches fail (and each retries): the second report of the same fault is a Debug line, 503, not another warning.
        await _logs.WhenLogged(503).WaitAsync(Safety);

        _ = Shutdown.DrainAsync();

        // As without the add-on: no hold (the slice says "last", but nothing could be read), readiness fails at once.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await ReadinessAsync());
        var warning = Assert.Single(_logs.Of(502));
        Assert.Contains($"({fault})", warning.Message, StringComparison.Ordinal);
        Assert.Empty(_logs.Of(506));
        Assert.False(Shutdown.Budget.IsFitted);
    }
}
