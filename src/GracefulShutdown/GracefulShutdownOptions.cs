using GracefulShutdown.Hosting;
using Microsoft.Extensions.Options;

namespace GracefulShutdown;

/// <summary>
/// Options for the shutdown sequence, bound from the <c>GracefulShutdown</c> configuration section.
/// </summary>
/// <remarks>
/// <para>
/// Most services set four things: <see cref="TerminationGracePeriod"/> (the pod's <c>terminationGracePeriodSeconds</c>),
/// <see cref="TrafficWaitOptions.Maximum"/> (how long the slowest load balancer may take to stop routing here),
/// <see cref="DrainTimeout"/> (how long in-flight work may take once traffic has left), and who may call the preStop hook
/// (<see cref="ManagementPort"/> or <see cref="PreStopOptions.Token"/>). Everything else is advanced.
/// </para>
/// <para>
/// The budget is validated at start-up: <c>TrafficWait:Maximum + DrainTimeout + StopMargin</c> must not exceed
/// <c>TerminationGracePeriod</c> (see <see cref="ShutdownBudget"/>). Durations are at most one day.
/// </para>
/// </remarks>
public class GracefulShutdownOptions
{
    /// <summary>The configuration section the options bind from.</summary>
    public const string SectionName = "GracefulShutdown";

    /// <summary>
    /// Gets or sets the pod's <c>terminationGracePeriodSeconds</c>: the whole budget from the start of termination (preStop included) to SIGKILL.
    /// </summary>
    /// <value>The default value is 30 seconds, Kubernetes' default. Greater than zero, at most one day.</value>
    [Duration(MinimumIsExclusive = true)]
    public TimeSpan TerminationGracePeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets how long the drain lasts at most once the traffic wait is over: long-lived connections close first
    /// (<see cref="ConnectionOptions.CloseTimeout"/> at most), then the server stops accepting connections and in-flight
    /// requests and work in progress have the rest of it to finish; then they are aborted.
    /// </summary>
    /// <value>The default value is 10 seconds. Greater than zero, at most one day.</value>
    [Duration(MinimumIsExclusive = true)]
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Gets or sets a port on which the library's endpoints answer; on every other port they do not exist.
    /// </summary>
    /// <value>
    /// The default value is <see langword="null"/>: the endpoints answer on every port, and the preStop endpoint refuses every
    /// caller inside Kubernetes unless <see cref="PreStopOptions.Token"/> is set (outside it, loopback callers may call it). When
    /// set, the server must listen on that port too (for example <c>ASPNETCORE_HTTP_PORTS=8080;8081</c>), and the preStop endpoint
    /// accepts any caller that reaches the port. Between 1 and 65535.
    /// </value>
    [Between(1, 65535)]
    public int? ManagementPort { get; set; }

    /// <summary>
    /// Gets or sets how long before the end of the drain <see cref="IGracefulShutdown.DrainDeadline"/> fires, so that long
    /// requests can finish on their own terms. Advanced.
    /// </summary>
    /// <value>The default value is 2 seconds. Zero or more, and less than <see cref="DrainTimeout"/>.</value>
    [Duration]
    public TimeSpan DrainCancellationLead { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Gets or sets the time kept for the stop work that runs after the drain (hosted services' <c>StopAsync</c>,
    /// service-registry deregistration, log flush). Advanced.
    /// </summary>
    /// <value>The default value is 3 seconds. Zero or more, at most one day.</value>
    [Duration]
    public TimeSpan StopMargin { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Gets or sets how long the application keeps serving after the drain begins.</summary>
    [ValidateObjectMembers]
    public TrafficWaitOptions TrafficWait { get; set; } = new();

    /// <summary>
    /// Gets or sets how the load balancers' own health checks are read as evidence that they have let go of this replica
    /// (docs/health-checkers.md).
    /// </summary>
    [ValidateObjectMembers]
    public HealthCheckerOptions HealthCheckers { get; set; } = new();

    /// <summary>Gets or sets the probe and preStop endpoints, and what readiness answers while draining.</summary>
    [ValidateObjectMembers]
    public GracefulShutdownEndpointOptions Endpoints { get; set; } = new();

    /// <summary>Gets or sets who may call the preStop endpoint.</summary>
    [ValidateObjectMembers]
    public PreStopOptions PreStop { get; set; } = new();

    /// <summary>Gets or sets how the process answers signals.</summary>
    public SignalOptions Signals { get; set; } = new();

    /// <summary>
    /// Gets or sets what happens to connections while draining: keep-alive connections close after their response, and
    /// long-lived connections (WebSockets, SignalR, server-sent events) close when the traffic wait is over.
    /// </summary>
    [ValidateObjectMembers]
    public ConnectionOptions Connections { get; set; } = new();

    /// <summary>Gets or sets how the application works with a proxy sidecar in its pod (a service mesh).</summary>
    [ValidateObjectMembers]
    public SidecarOptions Sidecar { get; set; } = new();
}
