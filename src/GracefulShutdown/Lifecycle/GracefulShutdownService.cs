using GracefulShutdown.Work;

namespace GracefulShutdown.Lifecycle;

/// <summary>
/// The library's public face (<see cref="IGracefulShutdown"/>). Its drain trigger asks the <see cref="ShutdownConductor"/>, like
/// every other trigger does.
/// </summary>
internal sealed class GracefulShutdownService(LifecycleState state, TrafficWait trafficWait, ShutdownConductor conductor,
    ShutdownBudgetSource budget, WorkTracker work) : IGracefulShutdown
{
    public GracefulShutdownPhase Phase => state.Phase;

    public Task WhenReady => state.WhenReady;

    public CancellationToken DrainStarted => state.DrainStarted;

    public CancellationToken TrafficWaitEnded => trafficWait.Ended;

    public CancellationToken DrainDeadline => state.DrainDeadline;

    public ShutdownBudget Budget => budget.Current;

    /// <summary>Begins the drain if it has not begun. Returns whether this call began it.</summary>
    public bool BeginDrain(DrainTrigger trigger) => conductor.Begin(trigger);

    /// <summary>Begins the drain (if needed) and returns its one traffic wait.</summary>
    public Task<TrafficWaitResult> DrainAndWaitAsync(DrainTrigger trigger) => conductor.WaitForTrafficAsync(trigger);

    public Task DrainAsync(CancellationToken cancellationToken = default) =>
        conductor.WaitForTrafficAsync(DrainTrigger.DrainAsync).WaitAsync(cancellationToken);

    public void RequestStop() => conductor.RequestStop(DrainTrigger.RequestStop);

    public IDisposable BeginWork(string name) => work.Begin(name);
}
