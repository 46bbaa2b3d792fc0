using System.Net;
using GracefulShutdown.Checkers;
using GracefulShutdown.Connections;
using GracefulShutdown.Endpoints;
using GracefulShutdown.Lifecycle;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace GracefulShutdown.Tests.Checkers;

/// <summary>
/// Which requests are health checkers, through the real middleware and probe endpoints: every caller of the readiness endpoint
/// but the kubelet, HEAD or GET, with or without a User-Agent, on the management port only when one is set; the gRPC health
/// check; declared paths (<c>/</c>) for recognised checkers only. Application requests never reach the ledger.
/// </summary>
public sealed class HealthCheckerRequestTests : IDisposable
{
    private static readonly IPAddress Balancer = IPAddress.Parse("10.0.0.1");
    private readonly FakeTimeProvider _time = new();
    private readonly GracefulShutdownOptions _options = new();
    private TestLifecycle? _lifecycle;
    private GracefulShutdownMiddleware? _middleware;
    private int _appStatus = StatusCodes.Status200OK;

    public void Dispose() => _lifecycle?.Dispose();

    private TestLifecycle Lifecycle => _lifecycle ??= Start();

    private TestLifecycle Start()
    {
        var lifecycle = new TestLifecycle(_time, _options);
        lifecycle.MarkRunning();
        _middleware = new GracefulShutdownMiddleware(context =>
        {
            context.Response.StatusCode = _appStatus;
            return Task.CompletedTask;
        }, lifecycle.State, lifecycle.Requests, lifecycle.Services.GetRequiredService<LifecycleEndpoints>(), new WebSocketRegistry(),
            lifecycle.Services);
        return lifecycle;
    }

    private HttpContext Send(string path, string? userAgent, string method = "GET", int localPort = 8080, IPAddress? from = null,
        string? contentType = null)
    {
        _ = Lifecycle;
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Path = path;
        context.Request.Protocol = method == "GET" && userAgent == null ? "HTTP/1.0" : "HTTP/1.1";
        context.Request.ContentType = contentType;
        if (userAgent is not null)
        {
            context.Request.Headers.UserAgent = userAgent;
        }

        context.Connection.RemoteIpAddress = from ?? Balancer;
        context.Connection.LocalPort = localPort;
        Assert.True(_middleware!.InvokeAsync(context).IsCompletedSuccessfully);
        return context;
    }

    private IReadOnlyList<HealthCheckerVerdict> DrainAndVerdicts(Action probesAfterDrain)
    {
        Lifecycle.BeginDrain(DrainTrigger.SigTerm);
        _ = Lifecycle.TrafficWait.WaitAsync();
        probesAfterDrain();
        return Lifecycle.Services.GetRequiredService<HealthCheckerLedger>().Verdicts(TimeSpan.FromSeconds(15));
    }

    [Fact]
    public void NoUserAgent_HaproxyHttpchk_KeyedByNoneAndSourceAddress()
    {
        Send("/health/ready", userAgent: null);
        _time.Advance(TimeSpan.FromSeconds(1));
        Send("/health/ready", userAgent: null);
        _time.Advance(TimeSpan.FromSeconds(1));

        IReadOnlyList<HealthCheckerVerdict> verdicts = DrainAndVerdicts(() =>
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            Assert.Equal(503, Send("/health/ready", userAgent: null).Response.StatusCode);
        });

        HealthCheckerVerdict verdict = Assert.Single(verdicts);
        Assert.Equal(("(none)", "10.0.0.1", "haproxy-httpchk"), (verdict.UserAgent, verdict.Source, verdict.Profile.Name));
        Assert.Equal((1, 1), (verdict.ProbesAfterDrain, verdict.ConsecutiveFailures));
        Assert.True(verdict.SeenBeforeDrain);
    }

    [Fact]
    public void EmptyUserAgentHeader_IsTheSameAsNone()
    {
        Send("/health/ready", userAgent: "");
        _time.Advance(TimeSpan.FromSeconds(1));
        Send("/health/ready", userAgent: "");
        HealthCheckerVerdict verdict = Assert.Single(DrainAndVerdicts(() => { }));
        Assert.Equal("(none)", verdict.UserAgent);
    }

    [Fact]
    public void KubeletProbes_AreNotCheckers()
    {
        Send("/health/ready", "kube-probe/1.31");
        _time.Advance(TimeSpan.FromSeconds(1));

        IReadOnlyList<HealthCheckerVerdict> verdicts = DrainAndVerdicts(() => Send("/health/ready", "kube-probe/1.31"));

        Assert.Empty(verdicts);
    }

    [Fact]
    public void HeadProbe_IsAChecker_AndItsFailuresCount()
    {
        Send("/health/ready", "ELB-HealthChecker/2.0", method: "HEAD");
        _time.Advance(TimeSpan.FromSeconds(5));

        IReadOnlyList<HealthCheckerVerdict> verdicts = DrainAndVerdicts(() =>
        {
            _time.Advance(TimeSpan.FromSeconds(5));
            Assert.Equal(503, Send("/health/ready", "ELB-HealthChecker/2.0", method: "HEAD").Response.StatusCode);
            _time.Advance(TimeSpan.FromSeconds(5));
            Send("/health/ready", "ELB-HealthChecker/2.0", method: "HEAD");
        });

        HealthCheckerVerdict verdict = Assert.Single(verdicts);
        Assert.Equal(("aws-elb", 2), (verdict.Profile.Name, verdict.ConsecutiveFailures));
    }

    [Fact]
    public void ManagementPort_ProbesThereAreCheckers_TheReadinessPathOnTheAppPortIsTraffic()
    {
        _options.ManagementPort = 8081;
        Send("/health/ready", "Envoy/HC", localPort: 8081);
        _time.Advance(TimeSpan.FromSeconds(3));
        Send("/health/ready", "Envoy/HC", localPort: 8081);
        uint arrivals = Lifecycle.Requests.Arrivals;
        Send("/health/ready", "Envoy/HC", localPort: 8080, from: IPAddress.Parse("10.0.0.2")); // the app's own path on the app port

        IReadOnlyList<HealthCheckerVerdict> verdicts = DrainAndVerdicts(() => { });

        HealthCheckerVerdict verdict = Assert.Single(verdicts);
        Assert.Equal(("Envoy/HC", "10.0.0.1", "envoy"), (verdict.UserAgent, verdict.Source, verdict.Profile.Name));
        Assert.True(verdict.SeenBeforeDrain);
        Assert.Equal(arrivals + 1, Lifecycle.Requests.Arrivals);
    }

    [Fact]
    public void ReadinessFailureDelay_CheckersSeeReadyUntilItRunsOut_ThenFailures()
    {
        _options.Endpoints.ReadinessFailureDelay = TimeSpan.FromSeconds(3);
        Send("/health/ready", null);

        IReadOnlyList<HealthCheckerVerdict> verdicts = DrainAndVerdicts(() =>
        {
            for (int second = 1; second <= 5; second++)
            {
                _time.Advance(TimeSpan.FromSeconds(1));
                Assert.Equal(second < 3 ? 200 : 503, Send("/health/ready", null).Response.StatusCode);
            }
        });

        HealthCheckerVerdict verdict = Assert.Single(verdicts);
        Assert.Equal((5, 3), (verdict.ProbesAfterDrain, verdict.ConsecutiveFailures)); // +3, +4, +5 failed
        Assert.Equal(TimeSpan.FromSeconds(5), verdict.LetGoAt);
    }

    [Fact]
    public void DeclaredRootPath_GoogleHcIsACheckerNotTraffic_ABrowserIsTraffic()
    {
        _options.HealthCheckers.Paths = ["/"];
        uint arrivals = Lifecycle.Requests.Arrivals;
        Send("/", "GoogleHC/1.0");
        Assert.Equal(arrivals, Lifecycle.Requests.Arrivals);
        Send("/", "Mozilla/5.0", from: IPAddress.Parse("203.0.113.9"));
        Assert.Equal(arrivals + 1, Lifecycle.Requests.Arrivals);

        IReadOnlyList<HealthCheckerVerdict> verdicts = DrainAndVerdicts(() =>
        {
            _appStatus = 200; // the library does not change the app's answer: this checker lets go only by falling silent
            _time.Advance(TimeSpan.FromSeconds(5));
            Send("/", "GoogleHC/1.0");
        });

        HealthCheckerVerdict verdict = Assert.Single(verdicts);
        Assert.Equal(("GoogleHC/1.0", "google-cloud", 0), (verdict.UserAgent, verdict.Profile.Name, verdict.ConsecutiveFailures));
    }

    [Fact]
    public void RootPath_NotDeclared_GoogleHcThereIsTraffic()
    {
        uint arrivals = Lifecycle.Requests.Arrivals;
        Send("/", "GoogleHC/1.0");

        Assert.Equal(arrivals + 1, Lifecycle.Requests.Arrivals);
        Assert.Empty(DrainAndVerdicts(() => { }));
    }

    [Fact]
    public void GrpcHealthCheck_IsAChecker_NotServingOnceReadinessIsLost()
    {
        _options.TrafficWait.IgnoredPaths = ["/grpc.health.v1.Health/"];
        Send(HealthCheckerRequests.GrpcHealthCheckPath, "Envoy/HC", method: "POST", contentType: "application/grpc");

        IReadOnlyList<HealthCheckerVerdict> verdicts = DrainAndVerdicts(() =>
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            Send(HealthCheckerRequests.GrpcHealthCheckPath, "Envoy/HC", method: "POST", contentType: "application/grpc"); // HTTP 200
        });

        HealthCheckerVerdict verdict = Assert.Single(verdicts);
        Assert.Equal(("Envoy/HC", 1), (verdict.UserAgent, verdict.ConsecutiveFailures));
    }

    [Fact]
    public void SpoofedKubeletUserAgent_IsIgnored_NotCounted()
    {
        Send("/health/ready", "kube-probe/1.31", from: IPAddress.Parse("6.6.6.6"));
        Assert.Empty(DrainAndVerdicts(() => { }));
    }

    [Fact]
    public void VeryLongUserAgent_IsKeptShort_AndStillOneChecker()
    {
        string userAgent = "x" + new string('y', 5000);
        Send("/health/ready", userAgent);
        _time.Advance(TimeSpan.FromSeconds(1));

        HealthCheckerVerdict verdict = Assert.Single(DrainAndVerdicts(() => Send("/health/ready", userAgent)));
        Assert.Equal(HealthCheckerLedger.MaxUserAgentLength, verdict.UserAgent.Length);
        Assert.Equal(1, verdict.ProbesAfterDrain);
    }

    [Fact]
    public void AppRequest_WithDeclaredPaths_StillAllocatesNothing()
    {
        _options.HealthCheckers.Paths = ["/healthz"];
        _ = Lifecycle;
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Path = "/api/orders";
        context.Request.Protocol = "HTTP/1.1";
        var response = new CompletingResponseFeature();
        context.Features.Set<Microsoft.AspNetCore.Http.Features.IHttpResponseFeature>(response);
        for (int i = 0; i < 100; i++)
        {
            Assert.True(_middleware!.InvokeAsync(context).IsCompletedSuccessfully);
            response.Complete();
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            _ = _middleware!.InvokeAsync(context);
            response.Complete();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private sealed class CompletingResponseFeature : Microsoft.AspNetCore.Http.Features.HttpResponseFeature
    {
        private readonly List<(Func<object, Task> Callback, object State)> _onCompleted = new(4);

        public override void OnCompleted(Func<object, Task> callback, object state) => _onCompleted.Add((callback, state));

        public void Complete()
        {
            foreach ((Func<object, Task> callback, object state) in _onCompleted)
            {
                _ = callback(state);
            }

            _onCompleted.Clear();
        }
    }
}
