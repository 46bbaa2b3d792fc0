namespace GracefulShutdown;

/// <summary>
/// The phases an application goes through, in order. A phase never goes back.
/// </summary>
public enum GracefulShutdownPhase
{
    /// <summary>The host is starting, or start-up gates are still open. Readiness answers 503.</summary>
    Starting = 0,

    /// <summary>The host has started and every start-up gate has completed. Readiness answers 200 (unless a readiness check fails).</summary>
    Running = 1,

    /// <summary>
    /// A drain was triggered (preStop, a signal, <c>StopApplication</c> or <see cref="IGracefulShutdown.DrainAsync"/>).
    /// Readiness answers 503, the app keeps serving, and the traffic wait runs.
    /// </summary>
    Draining = 2,

    /// <summary>The server refuses new connections and in-flight requests are finishing, bounded by the drain timeout.</summary>
    Stopping = 3,

    /// <summary>The server has stopped.</summary>
    Stopped = 4,
}
