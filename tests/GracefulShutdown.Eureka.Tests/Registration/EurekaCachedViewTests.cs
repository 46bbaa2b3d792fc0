using System.Net;
using GracefulShutdown.Eureka.Configuration;
using GracefulShutdown.Eureka.Registration;
using Microsoft.Extensions.Logging.Testing;

namespace GracefulShutdown.Eureka.Tests.Registration;

/// <summary>
/// The cached-view watch with two servers behind the fake handler, whose answers to <c>GET apps/ORDERS</c> the tests script: every
/// server must show the instance out of service, and a server whose key the add-on had not read before the drain gives no bound.
/// </summary>
public sealed class EurekaCachedViewTests : IDisposable
{
    private static readonly TimeSpan Safety = TimeSpan.FromSeconds(10);
    private readonly EurekaHarness _h = new();
    private readonly RecordingRoutes _routes = new();
    private readonly RecordingReport _report = new();
    private readonly EurekaCachedView _view;
    private readonly EurekaReconciler _reconciler;

    // What each server's cached view shows (null: the instance is not listed); 503 while a server is down.
    private readonly Dictionary<string, string?> _shows = new() { ["eureka-a"] = "UP", ["eureka-b"] = "UP" };
    private readonly HashSet<string> _down = [];

    public EurekaCachedViewTests()
    {
        (_view, _reconciler) = CreateView();
        _h.Handler.Respond = (request, _) => Task.FromResult(Answer(request));
    }

    /// <summary>A view and the reconciler that drives it, on the harness's options as they are now.</summary>
    private (EurekaCachedView View, EurekaReconciler Reconciler) CreateView()
    {
        EurekaInstanceIdentity identity = EurekaInstanceResolver.Resolve(_h.InstanceOptions, "Orders.Api", "/health/ready", []);
        var logger = new FakeLogger<EurekaRegistrationService>(_h.Logs);
        var view = new EurekaCachedView(_h.Client, _h.Shutdown, _routes, _report, _h.ClientOptions, identity, _h.Time, logger, _h.Metrics);
        return (view, new EurekaReconciler(_h.Client, _h.Shutdown, _h.State, identity, _h.ClientOptions, _h.Time, logger, view));
    }

    public void Dispose()
    {
        _h.Shutdown.EndTrafficWait();
        _view.StopAsync(CancellationToken.None).Wait(Safety);
        _view.Dispose();
        _h.Dispose();
    }

    private HttpResponseMessage Answer(RecordedRequest request)
    {
        if (request.Method != HttpMethod.Get || request.Path != "/eureka/apps/ORDERS")
        {
            return FakeEurekaHandler.Default(request);
        }

        lock (_shows)
        {
            if (_down.Contains(request.Server))
            {
                return FakeEurekaHandler.Status(HttpStatusCode.ServiceUnavailable);
            }

            string? status = _shows[request.Server];
            string instances = status is null
                ? """[{"instanceId":"pod-2:orders:8080","hostName":"pod-2","app":"ORDERS","status":"UP"}]"""
                : $$"""[{"instanceId":"pod-1:orders:8080","hostName":"pod-1","app":"ORDERS","status":"{{status}}"}]""";
            return FakeEurekaHandler.Status(HttpStatusCode.OK, """{"application":{"name":"ORDERS","instance":""" + instances + "}}");
        }
    }

    private void Show(string server, string? status, bool down = false)
    {
        lock (_shows)
        {
            _shows[server] = status;
            if (down)
            {
                _down.Add(server);
            }
            else
            {
                _down.Remove(server);
            }
        }
    }

    private int Reads(string server) => _h.Handler.Requests.Count(r => r.Method == HttpMethod.Get && r.Path == "/eureka/apps/ORDERS" && r.Server == server);

    private async Task RegisterUpAndDrainAsync(Action? beforeTheDrain = null)
    {
        await _reconciler.StepAsync(CancellationToken.None);
        _h.Shutdown.MarkReady();
        await _reconciler.StepAsync(CancellationToken.None);
        await _view.Warmup.WaitAsync(Safety);
        beforeTheDrain?.Invoke();
        _h.Shutdown.BeginDrain();
        await _reconciler.StepAsync(CancellationToken.None); // the override: the watch reads at once
    }

    /// <summary>Lets the watch read once more: waits until it sleeps, runs <paramref name="meanwhile"/>, then moves the clock on.</summary>
    private async Task NextPollAsync(Action? meanwhile = null)
    {
        Assert.Equal(TimeSpan.FromSeconds(2), await _h.Time.NextWaitAsync());
        meanwhile?.Invoke();
        _h.Time.Advance(TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task TwoServers_TheBoundRunsFromTheLaterTurnover()
    {
        await RegisterUpAndDrainAsync();
        DateTimeOffset drain = _h.Time.GetUtcNow();

        await NextPollAsync(() => Show("eureka-a", "OUT_OF_SERVICE")); // +2 s: A turned over, B not yet
        await NextPollAsync();
        await NextPollAsync(() => Show("eureka-b", null)); // +6 s: B lists the instance no longer
        (string route, DateTimeOffset letGoBy) = await _routes.Reported.WaitAsync(Safety);
        await _view.Watch.WaitAsync(Safety);

        Assert.Equal(("eureka", drain + TimeSpan.FromSeconds(6 + 65)), (route, letGoBy));
        Assert.Equal((1 + 2, 1 + 4), (Reads("eureka-a"), Reads("eureka-b"))); // the warm-up, then A until it turned, B until +6 s
        Assert.Contains("on 2 server(s), 6 s after the OUT_OF_SERVICE override", Assert.Single(_h.LogsWithId(220)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServerNotReadBeforeTheDrain_AnswersOutOfServiceAtOnce_NoBound_NoMoreReads()
    {
        Show("eureka-b", "UP", down: true); // B cannot be read when the instance goes UP
        await RegisterUpAndDrainAsync(() =>
        {
            Show("eureka-b", "OUT_OF_SERVICE"); // its first answer may be the registry now, not what callers fetch
            Show("eureka-a", "OUT_OF_SERVICE");
        });

        await _view.Watch.WaitAsync(Safety);

        Assert.Empty(_routes.Reports);
        Assert.Contains("eureka-b:8761/eureka/ was not read before the drain", Assert.Single(_h.LogsWithId(221)).Message, StringComparison.Ordinal);
        Assert.Equal(2, Reads("eureka-b")); // the failed warm-up and one read
    }

    [Fact]
    public async Task ServerNotReadBeforeTheDrain_ShowsUpThenOutOfService_Counts()
    {
        Show("eureka-b", "UP", down: true);
        await RegisterUpAndDrainAsync(() => Show("eureka-b", "UP")); // back, and its first answer still lists the instance UP
        await NextPollAsync(() => Show("eureka-a", "DOWN"));
        await NextPollAsync(() => Show("eureka-b", "OUT_OF_SERVICE"));

        (_, DateTimeOffset letGoBy) = await _routes.Reported.WaitAsync(Safety);

        Assert.Equal(_h.Time.GetUtcNow() + TimeSpan.FromSeconds(65), letGoBy);
    }

    [Fact]
    public async Task ReadsOff_NoRouteAdded_NothingRead()
    {
        _h.ClientOptions.CachedViewPollSeconds = 0;
        (EurekaCachedView view, EurekaReconciler reconciler) = CreateView();
        using EurekaCachedView disposing = view;

        await reconciler.StepAsync(CancellationToken.None);
        _h.Shutdown.MarkReady();
        await reconciler.StepAsync(CancellationToken.None);
        _h.Shutdown.BeginDrain();
        await reconciler.StepAsync(CancellationToken.None);

        Assert.Empty(_routes.Added);
        Assert.True(view.Watch.IsCompleted);
        Assert.Equal(0, Reads("eureka-a") + Reads("eureka-b"));
    }

    [Fact]
    public async Task CustomCallerCaches_SetTheBound()
    {
        _h.ClientOptions.CallerFetchIntervalSeconds = 5;
        _h.ClientOptions.CallerLoadBalancerCacheSeconds = 0;
        (EurekaCachedView view, EurekaReconciler reconciler) = CreateView();
        using EurekaCachedView disposing = view;
        await reconciler.StepAsync(CancellationToken.None);
        _h.Shutdown.MarkReady();
        await reconciler.StepAsync(CancellationToken.None);
        await view.Warmup.WaitAsync(Safety);
        Show("eureka-a", "OUT_OF_SERVICE");
        Show("eureka-b", "OUT_OF_SERVICE");

        _h.Shutdown.BeginDrain();
        await reconciler.StepAsync(CancellationToken.None);
        (_, DateTimeOffset letGoBy) = await _routes.Reported.WaitAsync(Safety);

        Assert.Equal(_h.Time.GetUtcNow() + TimeSpan.FromSeconds(5), letGoBy);
        await view.StopAsync(CancellationToken.None).WaitAsync(Safety);
    }
}
