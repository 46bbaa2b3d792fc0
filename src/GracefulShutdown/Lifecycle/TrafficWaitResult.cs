namespace GracefulShutdown.Lifecycle;

/// <summary>Why the traffic wait ended.</summary>
internal enum TrafficWaitOutcome
{
    /// <summary>The silence since the last request would be unlikely if a balancer still routed here.</summary>
    Quiet,

    /// <summary>So little traffic was ever seen that fewer than <c>IdleThreshold</c> requests were expected before the maximum.</summary>
    Idle,

    /// <summary>The maximum passed while requests were still arriving, or a health checker had not let go.</summary>
    MaximumReached,

    /// <summary>A second signal arrived.</summary>
    SkippedBySecondSignal,

    /// <summary>Ctrl+C outside Kubernetes.</summary>
    SkippedOnLocalInterrupt,

    /// <summary>The application never became ready, so no load balancer routed traffic to it.</summary>
    SkippedNeverReady,

    /// <summary>Every health checker seen before the drain let go, and no request arrived for the quiet period.</summary>
    CheckersLetGo,

    /// <summary>The host has no web server (a Worker Service): nothing routes traffic to it, so intake stops at once.</summary>
    SkippedNoServer,

    /// <summary>
    /// Every route an add-on watches (a registry's cached view) had let go — after the checkers, if any were seen — and no request
    /// arrived for the quiet period.
    /// </summary>
    RoutesLetGo,
}

/// <summary>How the traffic wait ended, and the evidence it read: the arrival-rate bounds and the silence they made conclusive.</summary>
internal sealed record TrafficWaitResult(TrafficWaitOutcome Outcome, TimeSpan Elapsed, long RequestsDuringWait, double LowerRate,
    double UpperRate, TimeSpan ConclusiveSilence, TrafficObservation Before);
