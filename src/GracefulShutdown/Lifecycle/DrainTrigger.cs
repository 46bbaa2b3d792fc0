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

    /// <summary><see cref="IGracefulShutdown.RequestStop"/>: a stop in process that takes the signal's path.</summary>
    RequestStop,
    SignalDuringStartup,

    /// <summary>The host's lifetime (ConsoleLifetime: a signal) asked the application to stop.</summary>
    HostLifetime,
}
