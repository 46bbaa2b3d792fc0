using GracefulShutdown.Hosting;

namespace GracefulShutdown;

/// <summary>
/// The load balancers' own health checks as evidence for the traffic wait, bound from <c>GracefulShutdown:HealthCheckers</c>
/// (docs/health-checkers.md). Every caller of the readiness endpoint (and of the gRPC health service's <c>Check</c>) other than the
/// kubelet is a health checker, keyed by its User-Agent and source address. With checkers seen before the drain, the wait ends
/// (not before <see cref="TrafficWaitOptions.Minimum"/>) once every one of them has let go — seen its unhealthy threshold of
/// consecutive failures plus its balancer's apply lag, or stopped probing — and no request arrived for
/// <see cref="TrafficWaitOptions.QuietPeriod"/>; a checker that has not let go holds the wait up to
/// <see cref="TrafficWaitOptions.Maximum"/>.
/// </summary>
/// <remarks>
/// The library knows the defaults of AWS ELB (<c>ELB-HealthChecker/2.0</c>), Google Cloud (<c>GoogleHC/1.0</c>), Envoy
/// (<c>Envoy/HC</c>), YARP and HAProxy's <c>option httpchk</c> (no User-Agent); set <see cref="Profiles"/> where your balancer's
/// health check is configured differently. Everything here is advanced.
/// </remarks>
public class HealthCheckerOptions
{
    /// <summary>Gets or sets a value indicating whether health checks are read as evidence at all.</summary>
    /// <value>The default value is <see langword="true"/>. With <see langword="false"/> the traffic wait reads arrivals only.</value>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Gets or sets paths, served by the application, that balancers health-check instead of the readiness endpoint (for example
    /// <c>/</c> for a GKE Ingress without a readiness probe). A caller of such a path is a checker when a profile recognises its
    /// User-Agent or when it sends none; other callers stay application traffic. The library does not change the answer.
    /// </summary>
    /// <value>The default value is empty. Each path starts with <c>/</c>; compared case-insensitively, as a whole path.</value>
#pragma warning disable CA1819 // An array binds from configuration as a list, and the middleware reads it without allocation.
    [PathPrefixes]
    public string[] Paths { get; set; } = [];
#pragma warning restore CA1819

    /// <summary>
    /// Gets or sets after how many of its periods without a probe a checker counts as gone (a deregistered target is no longer
    /// checked). The period is learned from the checker's probes, or taken from its profile until two probes were seen.
    /// </summary>
    /// <value>The default value is 3. Between 2 and 100.</value>
    [Between(2, 100)]
    public double StoppedAfterPeriods { get; set; } = 3;

    /// <summary>
    /// Gets the profiles by User-Agent: the key is compared case-insensitively with the start of the checker's User-Agent
    /// (<c>(none)</c> for checkers that send none); the longest matching key wins over the built-in profiles. A value left unset
    /// keeps the built-in profile's (or the default for unrecognised checkers).
    /// </summary>
    /// <value>The default value is empty: the built-in profiles (docs/health-checkers.md).</value>
    public IDictionary<string, HealthCheckerProfileOptions> Profiles { get; } =
        new Dictionary<string, HealthCheckerProfileOptions>(StringComparer.OrdinalIgnoreCase);
}
