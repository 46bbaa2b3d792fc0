namespace GracefulShutdown;

/// <summary>
/// Health-check tags that select which probe runs a check registered with <c>AddHealthChecks()</c>.
/// </summary>
public static class GracefulShutdownTags
{
    /// <summary>Checks with this tag run on the liveness probe. A failure there makes Kubernetes restart the container.</summary>
    public const string Live = "live";

    /// <summary>Checks with this tag run on the readiness probe.</summary>
    public const string Ready = "ready";

    /// <summary>Checks with this tag run on the startup probe.</summary>
    public const string Startup = "startup";
}
