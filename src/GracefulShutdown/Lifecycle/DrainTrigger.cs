namespace GracefulShutdown.Lifecycle;

/// <summary>What began the drain.</summary>
internal enum DrainTrigger
{
    PreStop,
    SigTerm,
    SigInt,
    SigQuit,
    StopApplication,
    DrainAsync,
    SignalDuringStartup,

    /// <summary>The host's lifetime (ConsoleLifetime: a signal) asked the application to stop.</summary>
    HostLifetime,
}
