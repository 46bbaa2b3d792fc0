using GracefulShutdown.Eureka.Configuration;
using EurekaHttpClient = GracefulShutdown.Eureka.Client.EurekaHttpClient;
using GracefulShutdown.Eureka.Diagnostics;
using GracefulShutdown.Eureka.Registration;
using GracefulShutdown.Eureka.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace GracefulShutdown.Eureka.Tests.Registration;

/// <summary>
/// The add-on against the Eureka stand-in with the Java server's response cache (refreshed every 30 s, at :00 and :30), over real
/// HTTP on loopback, all on one fake clock: after the override, the cached view turns over only at the next refresh, and the add-on
/// reports that moment + the callers' fetch interval + their load-balancer cache. Faults never give a bound and never hold anything.
/// </summary>
public sealed class EurekaCachedViewStandInTests : IAsyncLifetime
{
    private static readonly TimeSpan Safety = TimeSpan.FromSeconds(10);

    // 12:00:10: the stand-in's cache refreshes first at 12:00:30.
    private readonly WaitReportingTimeProvider _time = new(new DateTimeOffset(2025, 11, 26, 12, 0, 10, TimeSpan.Zero));
    private readonly SocketsHttpHandler _http = new();
    private readonly ServiceProvider _metricsProvider = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly FakeGracefulShutdown _shutdown = new();
    private readonly RecordingRoutes _routes = new();
    private readonly RecordingReport _report = new();
    private readonly EurekaRegistrationState _state = new();
    private readonly FakeLogCollector _logs = new();
    private EurekaServerStandIn _eureka = null!;
    private EurekaMetrics _metrics = null!;
    private EurekaCachedView _view = null!;
    private EurekaReconciler _reconciler = null!;

    public async Task InitializeAsync()
    {
        _eureka = await EurekaServerStandIn.StartAsync(_time, TimeSpan.FromSeconds(30));
        Assert.Equal(TimeSpan.FromSeconds(20), await _time.NextWaitAsync()); // the cache's refresh timer

        var options = new EurekaClientOptions { ServiceUrl = _eureka.BaseUri.ToString() };
        _metrics = new EurekaMetrics(_metricsProvider.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), _state);
        var client = new EurekaHttpClient(new FakeHttpClientFactory(_http), Options.Create(options), _time, new FakeLogger<EurekaHttpClient>(_logs),
            _metrics);
        EurekaInstanceIdentity identity = EurekaInstanceResolver.Resolve(
            new EurekaInstanceOptions { AppName = "orders", HostName = "pod-1", IpAddress = "10.0.0.7", Port = 8080 }, "Orders.Api", "/health/ready", []);
        var logger = new FakeLogger<EurekaRegistrationService>(_logs);
        _view = new EurekaCachedView(client, _shutdown, _routes, _report, options, identity, _time, logger, _metrics);
        _reconciler = new EurekaReconciler(client, _shutdown, _state, identity, options, _time, logger, _view);
    }

    public async Task DisposeAsync()
    {
        _shutdown.EndTrafficWait();
        await _view.StopAsync(CancellationToken.None).WaitAsync(Safety);
        _view.Dispose();
        await _eureka.DisposeAsync();
        _shutdown.Dispose();
        _http.Dispose();
        _metricsProvider.Dispose();
    }

    private int ApplicationReads => _eureka.Calls.Count(c => c.Operation == EurekaOperation.GetApplication);

    /// <summary>Registers UP (the add-on reads the application once, which puts it in the server's cache), then waits until 12:00:21.</summary>
    private async Task RegisterUpAsync()
    {
        await _reconciler.StepAsync(CancellationToken.None);
        _shutdown.MarkReady();
        await _reconciler.StepAsync(CancellationToken.None);
        await _view.Warmup.WaitAsync(Safety);
        Assert.Equal(["eureka"], _routes.Added);
        Assert.Equal(1, ApplicationReads);
        _time.Advance(TimeSpan.FromSeconds(11));
    }

    /// <summary>Begins the drain: the reconciler's step sends the override, which starts the watch.</summary>
    private async Task DrainAsync()
    {
        _shutdown.BeginDrain();
        await _reconciler.StepAsync(CancellationToken.None);
        Assert.Equal("OUT_OF_SERVICE", _eureka.GetInstance("ORDERS", "pod-1:orders:8080")!.Status);
    }

    [Fact]
    public async Task CachedViewTurnsOverAtTheNextRefresh_TheAddOnReportsThatMomentPlusTheCallersCaches()
    {
        await RegisterUpAsync();
        using var turnover = new MetricCollector<double>(_metricsProvider.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(),
            EurekaMetrics.MeterName, "graceful_shutdown.eureka.cached_view.turnover");

        await DrainAsync(); // 12:00:21
        for (int poll = 1; poll <= 5; poll++)
        {
            Assert.Equal(TimeSpan.FromSeconds(2), await _time.NextWaitAsync()); // the view still shows UP: read again in 2 s
            Assert.False(_routes.Reported.IsCompleted);
            _time.Advance(TimeSpan.FromSeconds(2)); // :23, :25, :27, :29, then :31 — after the refresh at :30
        }

        (string route, DateTimeOffset letGoBy) = await _routes.Reported.WaitAsync(Safety);
        await _view.Watch.WaitAsync(Safety);

        // Seen at 12:00:31; callers fetch every 30 s and their load balancers cache for 35 s.
        Assert.Equal(("eureka", new DateTimeOffset(2025, 11, 26, 12, 1, 36, TimeSpan.Zero)), (route, letGoBy));
        Assert.Equal(1 + 6, ApplicationReads); // the warm-up, then reads at :21 … :31, and none after
        Assert.Single(_routes.Reports);
        FakeLogRecord line = Assert.Single(_logs.GetSnapshot(), r => r.Id.Id == 220);
        Assert.Equal("Eureka's cached view shows ORDERS/pod-1:orders:8080 OUT_OF_SERVICE on 1 server(s), 10 s after the OUT_OF_SERVICE " +
            "override: callers that fetch the registry every 30 s and cache it for 35 s will have let go by 2025-11-26T12:01:36.0000000+00:00, " +
            "which bounds the traffic wait.", line.Message);
        Assert.Contains(_report.Steps, s => s == ("eureka",
            "cached view shows OUT_OF_SERVICE on 1 server(s), 10 s after the override; callers let go within 65 s (registry fetch 30 s + load-balancer cache 35 s)"));
        Assert.Equal(10, Assert.Single(turnover.GetMeasurementSnapshot()).Value);
    }

    [Fact]
    public async Task RegistryDownDuringTheDrain_NoBound_TheWatchEndsWithTheWait()
    {
        await RegisterUpAsync();
        await DrainAsync();
        await _eureka.StopListeningAsync();
        for (int poll = 1; poll <= 10; poll++)
        {
            Assert.Equal(TimeSpan.FromSeconds(2), await _time.NextWaitAsync()); // past the refresh at :30: the server cannot be read
            _time.Advance(TimeSpan.FromSeconds(2));
        }

        await _time.NextWaitAsync();
        _shutdown.EndTrafficWait();
        await _view.Watch.WaitAsync(Safety);

        Assert.Empty(_routes.Reports);
        FakeLogRecord line = Assert.Single(_logs.GetSnapshot(), r => r.Id.Id == 221);
        Assert.Contains("failed", line.Message, StringComparison.Ordinal);
        Assert.Contains(_report.Steps, s => s.Source == "eureka" && s.Step.StartsWith("cached view not seen out of service", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RegistryHangs_TheWaitEndingEndsTheRead()
    {
        await RegisterUpAsync();
        using EurekaHang hang = _eureka.HangNext(EurekaOperation.GetApplication);
        await DrainAsync();
        await hang.WhenHeld.WaitAsync(Safety);
        Assert.False(_view.Watch.IsCompleted); // the read hangs: only the wait's end can end it

        _shutdown.EndTrafficWait();
        await _view.Watch.WaitAsync(Safety);

        Assert.Empty(_routes.Reports);
        Assert.Single(_logs.GetSnapshot(), r => r.Id.Id == 221);
    }

    [Fact]
    public async Task OverrideNeverConfirmed_NothingIsWatched_NoBound()
    {
        await RegisterUpAsync();
        _eureka.FailNext(EurekaOperation.StatusOverride, 503, times: 2);

        _shutdown.BeginDrain();
        await _reconciler.StepAsync(CancellationToken.None); // 503 from the only server: retried later

        Assert.True(_view.Watch.IsCompleted);
        Assert.Equal(1, ApplicationReads); // the warm-up only
        Assert.Equal(["eureka"], _routes.Added); // an added route that never reports: the traffic wait has no bound
        Assert.Empty(_routes.Reports);
    }
}
