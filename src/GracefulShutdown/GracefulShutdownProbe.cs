namespace GracefulShutdown;

/// <summary>The three Kubernetes probes the library answers.</summary>
public enum GracefulShutdownProbe
{
    /// <summary>The startup probe: healthy once the host has started and every start-up gate has completed.</summary>
    Startup = 0,

    /// <summary>The readiness probe: healthy while the application runs and is not draining.</summary>
    Readiness = 1,

    /// <summary>The liveness probe: healthy unless a check tagged <c>live</c> fails; draining does not change it.</summary>
    Liveness = 2,
}
