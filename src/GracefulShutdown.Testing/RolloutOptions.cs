using Microsoft.AspNetCore.Hosting;

namespace GracefulShutdown.Testing;

/// <summary>What <see cref="Rollout.RunAsync{TEntryPoint}(RolloutOptions, CancellationToken)"/> simulates: the replicas, the balancer, the terminations and the load.</summary>
/// <remarks>The defaults simulate one rolling update of two replicas behind a kube-proxy-like balancer at 100 requests per second.</remarks>
public sealed class RolloutOptions
{
    /// <summary>Gets or sets how many replicas run; each round replaces every one of them, one by one (maxSurge 1, maxUnavailable 0). Default 2; 1 to 10.</summary>
    public int Replicas { get; set; } = 2;

    /// <summary>Gets or sets how many rolling updates run one after the other. Default 1; 1 to 10.</summary>
    public int Rounds { get; set; } = 1;

    /// <summary>Gets or sets the balancer model. Default <see cref="RolloutBalancer.RemovalLag"/>.</summary>
    public RolloutBalancer Balancer { get; set; } = RolloutBalancer.RemovalLag;

    /// <summary>
    /// Gets or sets how long after its termination begins a replica leaves the rotation (<see cref="RolloutBalancer.RemovalLag"/> model):
    /// the time kube-proxy, ingress controllers and load balancers take to learn that an endpoint went away. Default 2 s.
    /// </summary>
    public TimeSpan RemovalLag { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Gets or sets how often the balancer checks readiness (<see cref="RolloutBalancer.HealthChecked"/> model). Default 1 s.</summary>
    public TimeSpan HealthCheckInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets how many failed readiness checks in a row take a replica out of rotation (<see cref="RolloutBalancer.HealthChecked"/> model). Default 2.</summary>
    public int HealthCheckThreshold { get; set; } = 2;

    /// <summary>
    /// Gets or sets the readiness endpoint. A new replica joins the rotation once it answers it with a status below 400 (kubelet's
    /// rule). An app that answers 404 has no readiness endpoint: it joins once its server listens, and passes every health check.
    /// Default <c>/health/ready</c> (the library's).
    /// </summary>
    public string ReadinessPath { get; set; } = "/health/ready";

    /// <summary>
    /// Gets or sets the preStop hook kubelet calls with GET when a replica's termination begins, before the SIGTERM;
    /// <see langword="null"/> for none. Default <c>/lifecycle/prestop</c> (the library's). An app that answers 404 has no hook:
    /// like kubelet, the termination goes on with the SIGTERM. The library admits loopback callers outside Kubernetes only: where
    /// <c>KUBERNETES_SERVICE_HOST</c> is set, configure <c>GracefulShutdown:PreStop:AllowLoopback=true</c> in
    /// <see cref="ConfigureReplica"/> (the report shows a refused hook as its 403).
    /// </summary>
    public string? PreStopPath { get; set; } = "/lifecycle/prestop";

    /// <summary>
    /// Gets or sets the pod's <c>terminationGracePeriodSeconds</c>: a replica still running this long after its termination began
    /// is killed (its connections through the balancer are aborted, like SIGKILL would). Default 30 s (the library's default).
    /// </summary>
    public TimeSpan TerminationGracePeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets the path every request of the load asks for, with GET (see <see cref="CreateRequest"/> for others). Default <c>/</c>.</summary>
    public string Path { get; set; } = "/";

    /// <summary>Gets or sets the rate of the load, in requests per second, on keep-alive connections. Default 100; above 0, at most 5000.</summary>
    public double RequestsPerSecond { get; set; } = 100;

    /// <summary>
    /// Gets or sets a factory for each request of the load instead of GET <see cref="Path"/>: a POST with a body, headers. Its URI is
    /// relative to the balancer (e.g. <c>/orders?ms=10</c>). It is called once per request, on the load's thread.
    /// </summary>
    public Func<HttpRequestMessage>? CreateRequest { get; set; }

    /// <summary>Gets or sets how long a request may take before it counts as a <c>timeout</c> failure. Default 35 s (the grace period and more).</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(35);

    /// <summary>Gets or sets the most requests in flight at once; a request due beyond it is not sent and counts as a <c>client: too many in flight</c> failure. Default 512.</summary>
    public int MaxRequestsInFlight { get; set; } = 512;

    /// <summary>Gets or sets how long the load runs before the first termination, and after the last replica stopped. Default 1 s.</summary>
    public TimeSpan SteadyLoad { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets a WebSocket endpoint (e.g. <c>/ws</c>) that <see cref="WebSocketClients"/> clients keep a connection to; <see langword="null"/> for none (the default).</summary>
    public string? WebSocketPath { get; set; }

    /// <summary>
    /// Gets or sets how many WebSocket clients stay connected through <see cref="WebSocketPath"/>; each reconnects when its connection
    /// closes. A close with 1000 or 1001 is clean; any other close, an abort or a failed connect is a failure. Default 0; at most 100.
    /// </summary>
    public int WebSocketClients { get; set; }

    /// <summary>Gets or sets how long a new replica may take to start and answer readiness before the rollout fails. Default 30 s.</summary>
    public TimeSpan StartupTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets a hook that configures every replica's web host, after the app's own configuration and the harness's (for
    /// example <c>b =&gt; b.UseSetting("Sample:UseLibrary", "false")</c>, <c>b.ConfigureServices(…)</c>, <c>b.UseEnvironment(…)</c>).
    /// Replicas listen on <c>127.0.0.1</c>, port 0; their environment is <c>Development</c>, as with <c>WebApplicationFactory</c>.
    /// </summary>
    public Action<IWebHostBuilder>? ConfigureReplica { get; set; }

    /// <summary>Gets or sets the clock of the harness (rates, lags, checks, grace periods). Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    internal void Validate()
    {
        static void Check(bool valid, string name, object value, string rule)
        {
            if (!valid)
            {
                throw new ArgumentException($"RolloutOptions.{name} is {value}; it must be {rule}.", name);
            }
        }

        static bool Positive(TimeSpan value, TimeSpan max) => value > TimeSpan.Zero && value <= max;
        TimeSpan hour = TimeSpan.FromHours(1);
        Check(Replicas is >= 1 and <= 10, nameof(Replicas), Replicas, "from 1 to 10");
        Check(Rounds is >= 1 and <= 10, nameof(Rounds), Rounds, "from 1 to 10");
        Check(Enum.IsDefined(Balancer), nameof(Balancer), Balancer, "RemovalLag or HealthChecked");
        Check(RemovalLag >= TimeSpan.Zero && RemovalLag <= hour, nameof(RemovalLag), RemovalLag, "from 0 to 1 hour");
        Check(Positive(HealthCheckInterval, hour), nameof(HealthCheckInterval), HealthCheckInterval, "above 0 and at most 1 hour");
        Check(HealthCheckThreshold is >= 1 and <= 100, nameof(HealthCheckThreshold), HealthCheckThreshold, "from 1 to 100");
        Check(IsPath(ReadinessPath), nameof(ReadinessPath), ReadinessPath, "a path starting with '/'");
        Check(PreStopPath is null || IsPath(PreStopPath), nameof(PreStopPath), PreStopPath ?? "null", "null or a path starting with '/'");
        Check(Positive(TerminationGracePeriod, hour), nameof(TerminationGracePeriod), TerminationGracePeriod, "above 0 and at most 1 hour");
        Check(IsPath(Path), nameof(Path), Path, "a path starting with '/'");
        Check(RequestsPerSecond is > 0 and <= 5000, nameof(RequestsPerSecond), RequestsPerSecond, "above 0 and at most 5000");
        Check(Positive(RequestTimeout, hour), nameof(RequestTimeout), RequestTimeout, "above 0 and at most 1 hour");
        Check(MaxRequestsInFlight is >= 1 and <= 10_000, nameof(MaxRequestsInFlight), MaxRequestsInFlight, "from 1 to 10000");
        Check(SteadyLoad >= TimeSpan.Zero && SteadyLoad <= hour, nameof(SteadyLoad), SteadyLoad, "from 0 to 1 hour");
        Check(WebSocketPath is null || IsPath(WebSocketPath), nameof(WebSocketPath), WebSocketPath ?? "null", "null or a path starting with '/'");
        Check(WebSocketClients is >= 0 and <= 100, nameof(WebSocketClients), WebSocketClients, "from 0 to 100");
        Check(WebSocketClients == 0 || WebSocketPath is not null, nameof(WebSocketClients), WebSocketClients, "0 when WebSocketPath is null");
        Check(Positive(StartupTimeout, hour), nameof(StartupTimeout), StartupTimeout, "above 0 and at most 1 hour");
        ArgumentNullException.ThrowIfNull(TimeProvider);
    }

    private static bool IsPath(string? value) => value is not null && value.StartsWith('/');
}
