namespace GracefulShutdown;

/// <summary>
/// The shutdown report: one structured log line at exit (event 109) with the whole timeline, and the <c>graceful_shutdown</c>
/// activity on the <see cref="GracefulShutdownTelemetry.ActivitySourceName"/> source with an event per step.
/// Add-ons (Eureka) and applications add what they did and when.
/// </summary>
/// <remarks>Resolve it from dependency injection after calling <c>AddGracefulShutdown()</c>. It is a singleton and thread-safe.</remarks>
public interface IGracefulShutdownReport
{
    /// <summary>Adds a step to the report, stamped with the time since the drain began. Steps before the drain are ignored.</summary>
    /// <param name="source">Who did it, e.g. <c>eureka</c>.</param>
    /// <param name="step">What happened, e.g. <c>OUT_OF_SERVICE override sent (200)</c>.</param>
    void Add(string source, string step);
}
