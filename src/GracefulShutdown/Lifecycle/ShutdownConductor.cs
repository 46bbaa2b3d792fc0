using System.Globalization;
using GracefulShutdown.Diagnostics;
using GracefulShutdown.Work;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulShutdown.Lifecycle;

/// <summary>
/// The one place that holds the stop order, for every trigger:
/// <list type="number">
/// <item>begin the drain (readiness fails, <c>DrainStarted</c> fires);</item>
/// <item>the traffic wait: keep serving until traffic has left;</item>
/// <item>the drain participants (<see cref="IDrainParticipant"/>: long-lived connections closed with 1001, …), together;</item>
/// <item>on a signal or preStop, only now the host is told to stop, so <c>ApplicationStopping</c> fires after them;</item>
/// <item>in the host's stop: the server drain, with work in progress waited for alongside, in what is left of the drain;</item>
/// <item>then the host stops the hosted services (stop work) until <see cref="ShutdownBudget.StopDeadline"/>.</item>
/// </list>
/// Triggers only ask it to start (<see cref="Begin"/>, <see cref="RequestStop"/>); the host's <c>StoppingAsync</c> runs
/// <see cref="StopAsync"/>. Steps 1–3 run once per drain, whichever trigger came first, and are shared by every later one.
/// </summary>
internal sealed class ShutdownConductor(
    LifecycleState state,
    RequestTracker requests,
    TrafficWait trafficWait,
    IEnumerable<IDrainParticipant> participants,
    ServerDrain serverDrain,
    WorkDrain work,
    ShutdownBudgetSource budget,
    IServiceProvider services,
    TimeProvider time,
    ILogger<ShutdownConductor> logger)
{
    private readonly Lock _sync = new();
    private Task? _beforeStop;
    private long _beforeStopStartedAt;
    private long _beforeStopEndedAt;
    private int _stopRequested;

    /// <summary>Begins the drain if it has not begun, and with it the steps before the stop. Returns whether this call began it.</summary>
    public bool Begin(DrainTrigger trigger)
    {
        bool began = state.BeginDrain(trigger, requests.InFlight);
        lock (_sync)
        {
            // The wait starts here, on the trigger's own call: its evidence is frozen at the drain's start.
            _beforeStop ??= RunBeforeStopAsync(trafficWait.WaitAsync());
        }

        return began;
    }

    /// <summary>Begins the drain (if needed) and returns its one traffic wait: what a preStop call and <c>DrainAsync()</c> answer after.</summary>
    public Task<TrafficWaitResult> WaitForTrafficAsync(DrainTrigger trigger)
    {
        Begin(trigger);
        return trafficWait.WaitAsync();
    }

    /// <summary>Begins the drain (if needed) and returns the steps before the stop: the traffic wait and the participants.</summary>
    public Task BeforeStopAsync(DrainTrigger trigger)
    {
        Begin(trigger);
        lock (_sync)
        {
            return _beforeStop!;
        }
    }

    /// <summary>
    /// A signal, a preStop watchdog or the host's own lifetime asks the application to stop: the host is told to stop once the
    /// steps before the stop are over, with its stop timeout set so that every hosted service's token fires by
    /// <see cref="ShutdownBudget.StopDeadline"/> from the drain's start.
    /// </summary>
    public void RequestStop(DrainTrigger trigger)
    {
        Task beforeStop = BeforeStopAsync(trigger);
        if (Interlocked.Exchange(ref _stopRequested, 1) == 0)
        {
            _ = StopHostAfterAsync(beforeStop);
        }
    }

    /// <summary>
    /// The host's stop (its <c>StoppingAsync</c>, the only phase before the server stops): the steps before the stop if no
    /// trigger ran them yet, then the server drain with work in progress, in what the participants left of the drain.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await BeforeStopAsync(DrainTrigger.StopApplication).WaitAsync(cancellationToken).ConfigureAwait(false);
        TimeSpan spent = BeforeStopElapsed;
        await Task.WhenAll(
            serverDrain.RunAsync(spent, cancellationToken),
            work.WaitAsync(budget.Current.ServerDrainTime(spent), cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>
    /// Gets the part of the drain the participants used: how long they took, or have been running. Steps that ended long before
    /// the host stopped (a drain begun with <c>DrainAsync()</c>) count only their duration.
    /// </summary>
    public TimeSpan BeforeStopElapsed
    {
        get
        {
            long started = Volatile.Read(ref _beforeStopStartedAt);
            long ended = Volatile.Read(ref _beforeStopEndedAt);
            return started == 0 ? TimeSpan.Zero : ended == 0 ? time.GetElapsedTime(started) : time.GetElapsedTime(started, ended);
        }
    }

    private async Task RunBeforeStopAsync(Task<TrafficWaitResult> waiting)
    {
        // The participants run off the caller: it may be a signal handler or a request.
        await Task.Yield();
        TrafficWaitResult wait = await waiting.ConfigureAwait(false);
        Volatile.Write(ref _beforeStopStartedAt, time.GetTimestamp());
        try
        {
            using var deadline = new CancellationTokenSource(Min(budget.Current.CloseTimeout, ShutdownBudget.TimerLimit), time);
            await Task.WhenAll(participants.Select(p => RunParticipantAsync(p, wait, deadline.Token))).ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref _beforeStopEndedAt, time.GetTimestamp());
        }
    }

    private async Task RunParticipantAsync(IDrainParticipant participant, TrafficWaitResult wait, CancellationToken deadline)
    {
        try
        {
            await participant.RunAsync(wait, deadline).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // One participant failing must not keep the others, or the stop, from happening.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            logger.DrainParticipantFailed(participant.GetType().Name, ex);
        }
    }

    private async Task StopHostAfterAsync(Task beforeStop)
    {
        try
        {
            await beforeStop.ConfigureAwait(false);
        }
        finally
        {
            StopHost();
        }
    }

    private void StopHost()
    {
        // Outside a host there is nothing to stop.
        if (services.GetService<IHostApplicationLifetime>() is not IHostApplicationLifetime lifetime)
        {
            return;
        }

        if (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            // The application's own StopApplication() came first: the host's stop is running, the server drain is next.
            logger.StoppingHost("the host is already stopping (the application called StopApplication()), the server drain follows");
            return;
        }

        // The host's stop timeout starts now, not at the drain's start: it gets what is left of the budget.
        TimeSpan timeout = budget.Current.HostStopTimeout(state.SinceDrainStarted, BeforeStopElapsed);
        if (services.GetService<IOptions<HostOptions>>()?.Value is HostOptions host)
        {
            host.ShutdownTimeout = timeout;
        }

        logger.StoppingHost(string.Create(CultureInfo.InvariantCulture,
            $"stopping the host now (ApplicationStopping, then the server drain; hosted services' stop token fires within {timeout.TotalSeconds:0.###} s)"));
        lifetime.StopApplication();
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
