namespace GracefulShutdown.Grpc;

/// <summary>
/// How gRPC follows the shutdown lifecycle, bound from the <c>GracefulShutdown:Grpc</c> configuration section.
/// </summary>
public class GrpcShutdownOptions
{
    /// <summary>The configuration section the options bind from.</summary>
    public const string SectionName = "GracefulShutdown:Grpc";

    /// <summary>
    /// Gets or sets the health-service name that answers like the readiness probe: SERVING when <c>/health/ready</c> would
    /// answer 200, NOT_SERVING when it would answer 503 — from the moment the drain begins, or, with
    /// <c>GracefulShutdown:Endpoints:ReadinessFailureDelay</c> set, once that delay or the traffic wait is over. The empty name
    /// <c>""</c>, which most clients ask for, always answers the same.
    /// </summary>
    /// <value>The default value is <c>readiness</c>. Not empty, and different from the other two names.</value>
    public string ReadinessService { get; set; } = "readiness";

    /// <summary>Gets or sets the health-service name that answers like the liveness probe; it stays SERVING while draining.</summary>
    /// <value>The default value is <c>liveness</c>. Not empty, and different from the other two names.</value>
    public string LivenessService { get; set; } = "liveness";

    /// <summary>Gets or sets the health-service name that answers like the startup probe: SERVING once the application is ready.</summary>
    /// <value>The default value is <c>startup</c>. Not empty, and different from the other two names.</value>
    public string StartupService { get; set; } = "startup";

    /// <summary>
    /// Gets or sets how often the health checks tagged <c>startup</c>, <c>ready</c> and <c>live</c> are evaluated again for the
    /// health service. Lifecycle changes (ready, readiness lost while draining) are pushed at once, whatever this interval.
    /// </summary>
    /// <value>The default value is 1 second. Between 100 milliseconds and 1 minute.</value>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Gets or sets a value indicating whether server-streaming and duplex calls still running when the traffic wait is over
    /// end with status UNAVAILABLE, so that clients retry them on another replica. Their <c>ServerCallContext.CancellationToken</c>
    /// is canceled at that moment. A method or service marked <see cref="DisableStreamDrainAttribute"/> is left alone.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool EndStreamsWhenTrafficWaitEnds { get; set; } = true;
}
