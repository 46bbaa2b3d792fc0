using GracefulShutdown.Work;

namespace GracefulShutdown.Lifecycle;

/// <summary>
/// The library's public face (<see cref="IGracefulShutdown"/>) and the one entry point for every trigger: preStop, signals,
/// <c>StopApplication</c> and <see cref="DrainAsync"/> all begin the same drain and share the same traffic wait.
/// </summary>
internal sealed class GracefulShutdownService(LifecycleState state, RequestTracker requests, TrafficWait trafficWait, WorkTracker work)
    : IGracefulShutdown
{
    public GracefulShutdownPhase Phase => state.Phase;

    public Task WhenReady => state.WhenReady;

    public CancellationToken DrainStarted => state.DrainStarted;

    public CancellationToken TrafficWaitEnded => trafficWait.Ended;

    public CancellationToken DrainDeadline => state.DrainDeadline;

    /// <summary>Begins the drain if it has not begun. Returns whether this call began it.</summary>
    public bool BeginDrain(DrainTrigger trigger) => state.BeginDrain(trigger, requests.InFlight);

    /// <summary>Begins the drain (if needed) and returns its one traffic wait.</summary>
    public Task<TrafficWaitResult> DrainAndWaitAsync(DrainTrigger trigger)
    {
        BeginDrain(trigger);
        return trafficWait.WaitAsync();
    }

    public Task DrainAsync(CancellationToken cancellationToken = default) =>
        DrainAndWaitAsync(DrainTrigger.DrainAsync).WaitAsync(cancellationToken);

    public IDisposable BeginWork(string name) => work.Begin(name);
}
