using GracefulShutdown.Hosting;

namespace GracefulShutdown;

/// <summary>
/// A proxy sidecar in the pod (Istio, Linkerd), bound from <c>GracefulShutdown:Sidecar</c>: hold readiness until it is ready, and
/// know how long it keeps serving after SIGTERM.
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
    [HttpUrl]
    public Uri? ReadyUrl { get; set; }

    /// <summary>Gets or sets how often <see cref="ReadyUrl"/> is polled until it answers 2xx.</summary>
    /// <value>The default value is 500 milliseconds. Greater than zero, at most 1 minute.</value>
    [Duration(MinimumIsExclusive = true, Maximum = "00:01:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Gets or sets how long a classic (non-native) sidecar keeps serving after SIGTERM, e.g. Istio's <c>terminationDrainDuration</c>.
    /// A start-up warning says when the part of the drain that runs after SIGTERM is longer.
    /// </summary>
    /// <value>
    /// The default value is <see langword="null"/>: unknown, except that a <see cref="ReadyUrl"/> on Istio's port 15021 implies
    /// Istio's default of 5 seconds. With a native sidecar (which outlives the app) set it to the grace period. Zero or more, at
    /// most one day.
    /// </value>
    [Duration]
    public TimeSpan? DrainDuration { get; set; }
}
