namespace GracefulShutdown;

/// <summary>
/// The names to type into dashboards, alerts and logging filters.
/// </summary>
public static class GracefulShutdownTelemetry
{
    /// <summary>The name of the <see cref="System.Diagnostics.Metrics.Meter"/> every instrument of the library is on.</summary>
    public const string MeterName = "GracefulShutdown";

    /// <summary>
    /// The name of the <see cref="System.Diagnostics.ActivitySource"/> of the <c>graceful_shutdown</c> activity: one span from
    /// the drain start to the end of the shutdown sequence, with an event per step.
    /// </summary>
    public const string ActivitySourceName = "GracefulShutdown";

    /// <summary>
    /// The prefix of every log category of the library and its add-ons: filter them with one rule, e.g.
    /// <c>"Logging:LogLevel:GracefulShutdown": "Warning"</c>. Event ids are stable; categories below the prefix may change.
    /// </summary>
    public const string LogCategoryPrefix = "GracefulShutdown";
}
