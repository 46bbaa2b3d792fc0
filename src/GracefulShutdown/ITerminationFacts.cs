namespace GracefulShutdown;

/// <summary>
/// What the platform knows about this instance's termination, told to the library by a platform add-on
/// (<c>GracefulShutdown.Kubernetes</c> reads it from the pod and its EndpointSlices): the real deadline, the reason, whether
/// waiting for load balancers is futile, and whether this instance must keep passing readiness because no other one serves.
/// </summary>
/// <remarks>
/// <para>
/// Resolve it from dependency injection after calling <c>AddGracefulShutdown()</c>. It is a singleton and thread-safe; every
/// member may be called before or after the drain began, from any thread, any number of times. Nothing here delays start-up,
/// readiness or the shutdown: a fact that never comes leaves the configured behaviour as it is.
/// </para>
/// <para>See docs/kubernetes.md for how each fact changes the shutdown.</para>
/// </remarks>
public interface ITerminationFacts
{
    /// <summary>
    /// Tells the library when the platform will kill the process (SIGKILL). When it leaves less time from the start of the drain
    /// than <see cref="GracefulShutdownOptions.TerminationGracePeriod"/>, every phase not yet over runs on the budget fitted to it
    /// (<see cref="ShutdownBudget.FitTo"/>), a traffic wait in progress ends by its fitted maximum, and the shutdown report names
    /// the deadline. Of several deadlines the earliest rules.
    /// </summary>
    /// <param name="killAt">When the platform kills the process, e.g. the pod's <c>metadata.deletionTimestamp</c>.</param>
    /// <param name="source">Who said so, for logs and the report, e.g. <c>Kubernetes deletionTimestamp</c>.</param>
    /// <exception cref="ArgumentException"><paramref name="source"/> is <see langword="null"/> or empty.</exception>
    void ReportDeadline(DateTimeOffset killAt, string source);

    /// <summary>
    /// Tells the library why the instance is being terminated (e.g. the pod's <c>DisruptionTarget</c> condition), for the
    /// drain-start log line (when known by then) and the shutdown report. The first reason given is kept.
    /// </summary>
    /// <param name="reason">A short machine-readable reason, e.g. <c>EvictionByEvictionAPI</c>.</param>
    /// <param name="message">The platform's human-readable message, if any.</param>
    /// <exception cref="ArgumentException"><paramref name="reason"/> is <see langword="null"/> or empty.</exception>
    void ReportReason(string reason, string? message);

    /// <summary>
    /// Tells the library that waiting for load balancers to stop routing here is futile (Kubernetes graceful node shutdown does
    /// not update endpoints): the traffic wait is skipped, or ends at once if it is running, and the drain follows.
    /// </summary>
    /// <param name="why">Why, for the log line and the report.</param>
    /// <exception cref="ArgumentException"><paramref name="why"/> is <see langword="null"/> or empty.</exception>
    void SkipTrafficWait(string why);

    /// <summary>
    /// Keeps readiness passing after the drain began (as <c>Endpoints:ReadinessFailureDelay</c> does) and keeps the traffic wait
    /// from ending by its evidence, until the returned handle is disposed: for an instance that is the last one serving its
    /// Service, which kube-proxy and <c>serving</c>-aware balancers keep routing to. The traffic wait's maximum (of the budget in
    /// force) still ends the wait, and readiness fails with it. Once every hold is released, readiness fails and the traffic wait
    /// runs as usual from then (its minimum and quiet period counted from the release). A hold taken after readiness failed does
    /// not bring it back.
    /// </summary>
    /// <param name="why">Why, for the log line and the report.</param>
    /// <returns>The hold; dispose it to release it. Disposing it twice is harmless.</returns>
    /// <exception cref="ArgumentException"><paramref name="why"/> is <see langword="null"/> or empty.</exception>
    IDisposable HoldReadiness(string why);
}
