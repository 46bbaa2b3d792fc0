namespace GracefulShutdown.Eureka;

/// <summary>
/// The name and tag of the health check that reports the Eureka registration. It runs on no probe by default:
/// select it by <see cref="Tag"/>, for example <c>app.MapHealthChecks("/health/eureka", new() { Predicate = r =&gt; r.Tags.Contains(EurekaHealthChecks.Tag) })</c>.
/// </summary>
/// <remarks>
/// The check is <c>Healthy</c> while registered (or when the client is off), <c>Degraded</c> while not registered, and never
/// <c>Unhealthy</c>: a Eureka outage must not take the application out of readiness.
/// </remarks>
public static class EurekaHealthChecks
{
    /// <summary>The health check's registration name.</summary>
    public const string Name = "eureka";

    /// <summary>The health check's tag.</summary>
    public const string Tag = "eureka";
}
