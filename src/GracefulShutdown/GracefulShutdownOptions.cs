namespace GracefulShutdown;

/// <summary>
/// Options for the shutdown sequence, bound from the <c>GracefulShutdown</c> configuration section.
/// </summary>
/// <remarks>
/// The budget is validated at start-up:
/// <c>TrafficWait:Maximum + DrainTimeout + StopMargin</c> must not exceed <c>TerminationGracePeriod</c>,
/// which must match the pod's <c>terminationGracePeriodSeconds</c>.
/// The library sets <c>HostOptions.ShutdownTimeout</c> to <c>TrafficWait:Maximum + DrainTimeout + StopMargin</c>.
/// </remarks>
public class GracefulShutdownOptions
{
    /// <summary>The configuration section the options bind from.</summary>
    public const string SectionName = "GracefulShutdown";

    /// <summary>Gets or sets the probe and preStop endpoint options.</summary>
    public GracefulShutdownEndpointOptions Endpoints { get; set; } = new();

    /// <summary>Gets or sets how long the application keeps serving after the drain begins.</summary>
    public TrafficWaitOptions TrafficWait { get; set; } = new();

    /// <summary>Gets or sets who may call the preStop endpoint.</summary>
    public PreStopOptions PreStop { get; set; } = new();

    /// <summary>Gets or sets what happens to long-lived connections (WebSockets, SignalR, server-sent events) when the traffic wait is over.</summary>
    public LongLivedConnectionOptions Connections { get; set; } = new();

    /// <summary>Gets or sets how the application works with a proxy sidecar in its pod (a service mesh).</summary>
    public SidecarOptions Sidecar { get; set; } = new();

    /// <summary>
    /// Gets or sets a port on which the library's endpoints answer; on every other port they do not exist.
    /// </summary>
    /// <value>
    /// The default value is <see langword="null"/>: the endpoints answer on every port, and the preStop endpoint only to loopback callers
    /// (unless <see cref="PreStopOptions.Token"/> is set). When set, the server must listen on that port too (for example
    /// <c>ASPNETCORE_HTTP_PORTS=8080;8081</c>), and the preStop endpoint accepts any caller that reaches the port. Between 1 and 65535.
    /// </value>
    public int? ManagementPort { get; set; }

    /// <summary>
    /// Gets or sets how long the drain lasts at most once the traffic wait is over: long-lived connections close first
    /// (<see cref="LongLivedConnectionOptions.CloseTimeout"/> at most), then the server stops accepting connections and in-flight
    /// requests have the rest of it to finish; then they are aborted.
    /// </summary>
    /// <value>The default value is 10 seconds. Greater than zero.</value>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Gets or sets how long before the drain timeout <see cref="IGracefulShutdown.DrainDeadline"/> fires, so that long requests can finish on their own terms.
    /// </summary>
    /// <value>The default value is 2 seconds. Zero or more, and less than <see cref="DrainTimeout"/>.</value>
    public TimeSpan DrainCancellationLead { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Gets or sets the time kept for the stop work that runs after the drain (hosted services' <c>StopAsync</c>, service-registry deregistration, log flush).
    /// </summary>
    /// <value>The default value is 3 seconds. Zero or more.</value>
    public TimeSpan StopMargin { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Gets or sets the pod's <c>terminationGracePeriodSeconds</c>: the whole budget from the start of termination (preStop included) to SIGKILL.
    /// </summary>
    /// <value>The default value is 30 seconds, Kubernetes' default. Greater than zero.</value>
    public TimeSpan TerminationGracePeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets a value indicating whether responses served while draining close their connection
    /// (<c>Connection: close</c> on HTTP/1.1, GOAWAY on HTTP/2), so that pooled clients reconnect to another replica.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool CloseConnectionsWhileDraining { get; set; } = true;
}

/// <summary>
/// Paths of the probe and preStop endpoints. Each answers GET and HEAD.
/// </summary>
public class GracefulShutdownEndpointOptions
{
    /// <summary>Gets or sets the startup probe path: 200 once the host has started and every start-up gate has completed.</summary>
    /// <value>The default value is <c>/health/startup</c>. Must start with <c>/</c>.</value>
    public string StartupPath { get; set; } = "/health/startup";

    /// <summary>Gets or sets the readiness probe path: 200 while running and not draining, 503 otherwise.</summary>
    /// <value>The default value is <c>/health/ready</c>. Must start with <c>/</c>.</value>
    public string ReadinessPath { get; set; } = "/health/ready";

    /// <summary>Gets or sets the liveness probe path: 200 unless a check tagged <c>live</c> fails; it stays 200 while draining.</summary>
    /// <value>The default value is <c>/health/live</c>. Must start with <c>/</c>.</value>
    public string LivenessPath { get; set; } = "/health/live";

    /// <summary>Gets or sets the preStop hook path: begins the drain and answers 200 when the traffic wait is over.</summary>
    /// <value>The default value is <c>/lifecycle/prestop</c>. Must start with <c>/</c>.</value>
    public string PreStopPath { get; set; } = "/lifecycle/prestop";

    /// <summary>
    /// Gets or sets how long the result of the health checks tagged for a probe is reused, so that probes stay cheap.
    /// </summary>
    /// <value>The default value is 1 second. Zero (no caching) or more, at most 1 minute.</value>
    public TimeSpan CheckResultCacheDuration { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>
/// The traffic wait: after the drain begins the application keeps serving at least <see cref="Minimum"/> and at most
/// <see cref="Maximum"/>, and in between until the traffic it sees shows that load balancers have stopped routing here.
/// </summary>
/// <remarks>
/// The library learns each replica's arrival rate (application requests, not probes) over <see cref="RateWindow"/> before the
/// drain. A silence ends the wait once it would be unlikely (<see cref="SilenceConfidence"/>) if requests still arrived at that
/// rate — 23 ms at 300 requests/s, 35 s at one request per 5 s — but never before <see cref="QuietPeriod"/>. A replica that saw
/// so little traffic that fewer than <see cref="IdleThreshold"/> requests are expected before <see cref="Maximum"/> ends at
/// <see cref="Minimum"/>; a young replica has too short a history for that and waits longer. Requests during the wait restart
/// the silence. The maths is in docs/traffic-wait.md.
/// </remarks>
public class TrafficWaitOptions
{
    /// <summary>Gets or sets the shortest wait, which covers endpoint propagation even for an idle service.</summary>
    /// <value>The default value is 5 seconds. Zero or more, at most <see cref="Maximum"/>.</value>
    public TimeSpan Minimum { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets the shortest silence that can end the wait, however busy the service was.</summary>
    /// <value>The default value is 250 milliseconds. Zero or more, at most <see cref="Maximum"/>.</value>
    public TimeSpan QuietPeriod { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Gets or sets the longest wait, whatever the traffic.</summary>
    /// <value>The default value is 15 seconds. At least <see cref="Minimum"/>.</value>
    public TimeSpan Maximum { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Gets or sets how sure a silence must make the library that no balancer still routes here: the silence must be one that
    /// would happen with probability at most <c>1 − SilenceConfidence</c> at the arrival rate seen before the drain.
    /// </summary>
    /// <value>The default value is 0.999. Between 0.5 and 0.999999.</value>
    public double SilenceConfidence { get; set; } = 0.999;

    /// <summary>
    /// Gets or sets how many requests may at most be expected to still arrive before <see cref="Maximum"/> for a service that
    /// saw almost no traffic to end its wait at <see cref="Minimum"/> (by the 95 % upper bound of its arrival rate).
    /// </summary>
    /// <value>The default value is 0.05. Between 0 (never end early for lack of traffic) and 1.</value>
    public double IdleThreshold { get; set; } = 0.05;

    /// <summary>
    /// Gets or sets path prefixes whose requests are not traffic, like the library's own probes: they are not counted, do not
    /// extend the wait, and their connections are not closed early. The gRPC add-on adds <c>/grpc.health.v1.Health/</c>.
    /// </summary>
    /// <value>The default value is empty. Each prefix starts with <c>/</c> and is compared case-sensitively.</value>
#pragma warning disable CA1819 // An array binds from configuration as a list, and the middleware reads it without allocation.
    public string[] IgnoredPaths { get; set; } = [];
#pragma warning restore CA1819

    /// <summary>Gets or sets how far back the arrival rate before the drain is measured.</summary>
    /// <value>The default value is 60 seconds. Between 1 second and 10 minutes.</value>
    public TimeSpan RateWindow { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Gets or sets a value indicating whether Ctrl+C (SIGINT) outside Kubernetes (no <c>KUBERNETES_SERVICE_HOST</c>) skips the wait,
    /// so that a developer does not sit through it. SIGTERM always runs it.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool SkipOnLocalInterrupt { get; set; } = true;

    /// <summary>
    /// Gets or sets how long readiness keeps passing after the drain begins, so that a terminating pod stays <c>serving</c> for
    /// kube-proxy's terminating-endpoint fallback and for load balancers that health-check it (see docs/terminating-endpoints-and-sidecars.md).
    /// </summary>
    /// <value>
    /// The default value is zero: readiness fails as soon as the drain begins. A value of <see cref="Maximum"/> keeps it passing for the
    /// whole traffic wait. Readiness always fails once the traffic wait has ended. Zero or more, at most <see cref="Maximum"/>.
    /// </value>
    public TimeSpan ReadinessFailureDelay { get; set; }
}

/// <summary>
/// Who may call the preStop endpoint. kubelet calls from the node to the pod IP, so in Kubernetes set
/// <see cref="GracefulShutdownOptions.ManagementPort"/> or <see cref="Token"/>: with neither, the endpoint refuses every caller
/// inside Kubernetes (a same-pod proxy or mesh sidecar connects from loopback) and accepts only loopback callers outside it.
/// </summary>
public class PreStopOptions
{
    /// <summary>
    /// Gets or sets a shared secret that callers must send in the <see cref="TokenHeaderName"/> header
    /// (from the manifest's <c>httpGet.httpHeaders</c>).
    /// </summary>
    /// <value>The default value is <see langword="null"/> (no token).</value>
    public string? Token { get; set; }

    /// <summary>Gets or sets the header that carries <see cref="Token"/>.</summary>
    /// <value>The default value is <c>X-PreStop-Token</c>.</value>
    public string TokenHeaderName { get; set; } = "X-PreStop-Token";

    /// <summary>
    /// Gets or sets whether loopback callers may call the preStop endpoint when neither <see cref="Token"/> nor
    /// <see cref="GracefulShutdownOptions.ManagementPort"/> is set.
    /// </summary>
    /// <value>
    /// The default value is <see langword="null"/>: allowed outside Kubernetes (local development), refused inside it, where
    /// requests through a same-pod proxy (Istio's sidecar connects from 127.0.0.6, Linkerd's from 127.0.0.1) arrive from loopback.
    /// <see langword="true"/> allows loopback inside Kubernetes too (<c>exec</c> hooks in images without a proxy);
    /// <see langword="false"/> never allows it.
    /// </value>
    public bool? AllowLoopback { get; set; }

    /// <summary>
    /// Gets or sets how long after <see cref="GracefulShutdownOptions.TerminationGracePeriod"/> a drain begun by the preStop
    /// endpoint waits for SIGTERM before it stops the application itself: kubelet would have killed the pod by then, so the
    /// call did not come from a termination, and a restart beats a replica stuck out of rotation.
    /// </summary>
    /// <value>The default value is 5 seconds. Zero or more.</value>
    public TimeSpan SigTermMargin { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// A proxy sidecar in the pod (Istio, Linkerd): hold readiness until it is ready, and know how long it keeps serving after SIGTERM.
/// </summary>
public class SidecarOptions
{
    /// <summary>
    /// Gets or sets the sidecar's readiness URL; when set, readiness (and the startup probe) wait until it answers 2xx.
    /// </summary>
    /// <value>
    /// The default value is <see langword="null"/> (no such gate). Istio: <c>http://127.0.0.1:15021/healthz/ready</c>;
    /// Linkerd: <c>http://127.0.0.1:4191/ready</c>. An absolute http or https URL.
    /// </value>
    public Uri? ReadyUrl { get; set; }

    /// <summary>Gets or sets how often <see cref="ReadyUrl"/> is polled until it answers 2xx.</summary>
    /// <value>The default value is 500 milliseconds. Greater than zero, at most 1 minute.</value>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Gets or sets how long a classic (non-native) sidecar keeps serving after SIGTERM, e.g. Istio's <c>terminationDrainDuration</c>.
    /// A start-up warning says when the part of the drain that runs after SIGTERM is longer.
    /// </summary>
    /// <value>
    /// The default value is <see langword="null"/>: unknown, except that a <see cref="ReadyUrl"/> on Istio's port 15021 implies
    /// Istio's default of 5 seconds. With a native sidecar (which outlives the app) set it to the grace period. Zero or more.
    /// </value>
    public TimeSpan? DrainDuration { get; set; }
}
