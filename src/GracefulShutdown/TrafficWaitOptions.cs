using GracefulShutdown.Hosting;

namespace GracefulShutdown;

/// <summary>
/// The traffic wait, bound from <c>GracefulShutdown:TrafficWait</c>: after the drain begins the application keeps serving at least
/// <see cref="Minimum"/> and at most <see cref="Maximum"/>, and in between until the traffic it sees shows that load balancers
/// have stopped routing here.
/// </summary>
/// <remarks>
/// The library learns each replica's arrival rate (application requests, not probes) over <see cref="RateWindow"/> before the
/// drain, and keeps learning from the requests during the wait. A silence ends the wait once it would be unlikely
/// (<see cref="SilenceConfidence"/>) if requests still arrived at that rate — 23 ms at 300 requests/s, 35 s at one request per
/// 5 s — but never before <see cref="QuietPeriod"/>. A replica that saw no request in the recent window nor during the wait, and
/// so little traffic that fewer than <see cref="IdleThreshold"/> requests are expected before <see cref="Maximum"/>, ends at
/// <see cref="Minimum"/>; a young replica has too short a history for that and waits longer. Requests during the wait restart
/// the silence. The maths is in docs/traffic-wait.md. Only <see cref="Maximum"/> is commonly set; the rest is advanced.
/// </remarks>
public class TrafficWaitOptions
{
    /// <summary>Gets or sets the shortest wait, which covers endpoint propagation even for an idle service.</summary>
    /// <value>The default value is 5 seconds. Zero or more, at most <see cref="Maximum"/>.</value>
    [Duration]
    public TimeSpan Minimum { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gets or sets the longest wait, whatever the traffic: how long the slowest load balancer in front of the service may take to
    /// stop routing here.
    /// </summary>
    /// <value>The default value is 15 seconds. At least <see cref="Minimum"/>, at most one day.</value>
    [Duration]
    public TimeSpan Maximum { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Gets or sets the shortest silence that can end the wait, however busy the service was. Advanced.</summary>
    /// <value>The default value is 250 milliseconds. Zero or more, at most <see cref="Maximum"/>.</value>
    [Duration]
    public TimeSpan QuietPeriod { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Gets or sets how sure a silence must make the library that no balancer still routes here: the silence must be one that
    /// would happen with probability at most <c>1 − SilenceConfidence</c> at the arrival rate seen. Advanced.
    /// </summary>
    /// <value>The default value is 0.999. Between 0.5 and 0.999999.</value>
    [Between(0.5, 0.999999)]
    public double SilenceConfidence { get; set; } = 0.999;

    /// <summary>
    /// Gets or sets how many requests may at most be expected to still arrive before <see cref="Maximum"/> for a service that
    /// saw almost no traffic to end its wait at <see cref="Minimum"/> (by the 95 % upper bound of its arrival rate). Advanced.
    /// </summary>
    /// <value>The default value is 0.05. Between 0 (never end early for lack of traffic) and 1.</value>
    [Between(0, 1)]
    public double IdleThreshold { get; set; } = 0.05;

    /// <summary>Gets or sets how far back the arrival rate before the drain is measured. Advanced.</summary>
    /// <value>The default value is 60 seconds. Between 1 second and 10 minutes.</value>
    [Duration(Minimum = "00:00:01", Maximum = "00:10:00")]
    public TimeSpan RateWindow { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Gets or sets path prefixes whose requests are not traffic, like the library's own probes: they are not counted, do not
    /// extend the wait, and their connections are not closed early. The gRPC add-on adds <c>/grpc.health.v1.Health/</c>. Advanced.
    /// </summary>
    /// <value>The default value is empty. Each prefix starts with <c>/</c> and is compared case-sensitively.</value>
#pragma warning disable CA1819 // An array binds from configuration as a list, and the middleware reads it without allocation.
    [PathPrefixes]
    public string[] IgnoredPaths { get; set; } = [];
#pragma warning restore CA1819
}
