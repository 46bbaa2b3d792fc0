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

/// <summary>Why the traffic wait ended.</summary>
internal enum TrafficWaitOutcome
{
    /// <summary>The minimum passed and no request arrived for the quiet period.</summary>
    Quiet,

    /// <summary>The maximum passed while requests were still arriving.</summary>
    MaximumReached,

    /// <summary>A second signal arrived.</summary>
    SkippedBySecondSignal,

    /// <summary>Ctrl+C outside Kubernetes.</summary>
    SkippedOnLocalInterrupt,

    /// <summary>The application never became ready, so no load balancer routed traffic to it.</summary>
    SkippedNeverReady,
}

internal readonly record struct TrafficWaitResult(TrafficWaitOutcome Outcome, TimeSpan Elapsed, long RequestsDuringWait);
