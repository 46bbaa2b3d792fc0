using GracefulShutdown.Hosting;

namespace GracefulShutdown;

/// <summary>
/// The probe and preStop endpoints, bound from <c>GracefulShutdown:Endpoints</c>: their paths, and what readiness answers while
/// draining. The probes answer GET and HEAD; preStop answers GET only (405 with <c>Allow: GET</c> to any other method, HEAD
/// included: a monitor's HEAD must not begin a drain).
/// </summary>
public class GracefulShutdownEndpointOptions
{
    /// <summary>Gets or sets the startup probe path: 200 once the host has started and every start-up gate has completed.</summary>
    /// <value>The default value is <c>/health/startup</c>. Must start with <c>/</c>.</value>
    [EndpointPath]
    public string StartupPath { get; set; } = "/health/startup";

    /// <summary>Gets or sets the readiness probe path: 200 while running and not draining, 503 otherwise.</summary>
    /// <value>The default value is <c>/health/ready</c>. Must start with <c>/</c>.</value>
    [EndpointPath]
    public string ReadinessPath { get; set; } = "/health/ready";

    /// <summary>Gets or sets the liveness probe path: 200 unless a check tagged <c>live</c> fails; it stays 200 while draining.</summary>
    /// <value>The default value is <c>/health/live</c>. Must start with <c>/</c>.</value>
    [EndpointPath]
    public string LivenessPath { get; set; } = "/health/live";

    /// <summary>Gets or sets the preStop hook path: begins the drain and answers 200 when the traffic wait is over.</summary>
    /// <value>The default value is <c>/lifecycle/prestop</c>. Must start with <c>/</c>.</value>
    [EndpointPath]
    public string PreStopPath { get; set; } = "/lifecycle/prestop";

    /// <summary>
    /// Gets or sets how long the result of the health checks tagged for a probe is reused, so that probes stay cheap. Advanced.
    /// </summary>
    /// <value>The default value is 1 second. Zero (no caching) or more, at most 1 minute.</value>
    [Duration(Maximum = "00:01:00")]
    public TimeSpan CheckResultCacheDuration { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Gets or sets how long readiness keeps passing after the drain begins, so that a terminating pod stays <c>serving</c> for
    /// kube-proxy's terminating-endpoint fallback and for load balancers that health-check it (see
    /// docs/terminating-endpoints-and-sidecars.md). Every health surface follows it (<see cref="IGracefulShutdownProbes"/>). Advanced.
    /// </summary>
    /// <value>
    /// The default value is zero: readiness fails as soon as the drain begins. A value of <see cref="TrafficWaitOptions.Maximum"/>
    /// keeps it passing for the whole traffic wait. Readiness always fails once the traffic wait has ended. Zero or more, at most
    /// <see cref="TrafficWaitOptions.Maximum"/>.
    /// </value>
    [Duration]
    public TimeSpan ReadinessFailureDelay { get; set; }

    /// <summary>
    /// Gets or sets a port that listens while readiness passes and is closed while it fails, for manifests with a
    /// <c>tcpSocket</c> readiness probe (hosts without HTTP). It closes the moment the drain begins. Advanced.
    /// </summary>
    /// <value>The default value is <see langword="null"/>: no TCP readiness port. Between 1 and 65535.</value>
    [Between(1, 65535)]
    public int? TcpReadinessPort { get; set; }

    /// <summary>
    /// Gets or sets a port that listens while liveness passes and is closed while it fails, for manifests with a
    /// <c>tcpSocket</c> liveness probe. The checks tagged <c>live</c> are evaluated every <see cref="CheckResultCacheDuration"/>
    /// (at least every second). Advanced.
    /// </summary>
    /// <value>The default value is <see langword="null"/>: no TCP liveness port. Between 1 and 65535.</value>
    [Between(1, 65535)]
    public int? TcpLivenessPort { get; set; }
}
