namespace GracefulShutdown;

/// <summary>
/// The application's shutdown lifecycle: its phase, the signals handlers and add-ons can observe, and a programmatic drain trigger.
/// </summary>
/// <remarks>
/// Resolve it from dependency injection after calling <c>AddGracefulShutdown()</c>. It is a singleton.
/// </remarks>
public interface IGracefulShutdown
{
    /// <summary>Gets the current phase.</summary>
    GracefulShutdownPhase Phase { get; }

    /// <summary>
    /// Gets a task that completes when the application first becomes ready (the host has started and every start-up gate has
    /// completed). It is canceled if the drain begins first.
    /// </summary>
    Task WhenReady { get; }

    /// <summary>
    /// Gets a token that is canceled when the drain begins: the first of a preStop call, SIGTERM/SIGINT/SIGQUIT,
    /// <c>IHostApplicationLifetime.StopApplication()</c> or <see cref="DrainAsync"/>.
    /// </summary>
    /// <remarks>
    /// Do not cancel in-flight request work on this token: the application keeps serving while traffic moves away.
    /// Use <see cref="DrainDeadline"/> for that.
    /// </remarks>
    CancellationToken DrainStarted { get; }

    /// <summary>
    /// Gets a token that is canceled when the traffic wait is over: load balancers have stopped routing here, so long-lived
    /// connections (WebSockets, server-sent events, long polls, streaming calls) should end now and let their clients
    /// reconnect to another replica. It fires before the server stops accepting connections.
    /// </summary>
    CancellationToken TrafficWaitEnded { get; }

    /// <summary>
    /// Gets a token that is canceled shortly before the drain timeout aborts the requests still in flight:
    /// <c>GracefulShutdown:DrainCancellationLead</c> before the end of the drain, which lasts <c>GracefulShutdown:DrainTimeout</c>
    /// from the end of the traffic wait (the close of long-lived connections counts within it, the server drain gets the rest).
    /// Long requests, streams and long polls should link it with <c>HttpContext.RequestAborted</c> and finish early.
    /// </summary>
    CancellationToken DrainDeadline { get; }

    /// <summary>
    /// Gets the time budget of the shutdown in force: how long the traffic wait, the drain and the stop work may take, from the
    /// drain's start, inside the termination grace period. Add-ons bound their own stop work by it.
    /// </summary>
    ShutdownBudget Budget { get; }

    /// <summary>
    /// Begins the drain, if it has not begun, and waits until the traffic wait is over. This is what the preStop endpoint does.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting; it does not stop the drain.</param>
    /// <returns>A task that completes when the traffic wait is over.</returns>
    /// <remarks>
    /// This operation is idempotent: concurrent and repeated calls wait for the same traffic wait.
    /// It does not stop the host: call <c>IHostApplicationLifetime.StopApplication()</c> afterwards (the wait is not repeated).
    /// </remarks>
    Task DrainAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Stops the application the way SIGTERM does: begins the drain (if it has not begun), and once the traffic wait and the
    /// drain participants (the close of long-lived connections) are over, stops the host with what is left of the budget, so
    /// that <c>ApplicationStopping</c> fires after them. Returns at once.
    /// </summary>
    /// <remarks>
    /// This operation is idempotent, and shared with every other trigger: a signal, the preStop hook or a second call change
    /// nothing. Use it where an in-process stop must behave like the pod's termination (an admin command, a test harness);
    /// <c>IHostApplicationLifetime.StopApplication()</c> instead fires <c>ApplicationStopping</c> at once and runs the wait inside
    /// the host's stop.
    /// </remarks>
    void RequestStop();

    /// <summary>
    /// Marks the start of a unit of non-HTTP work (a message being handled, a job step) that the stop should wait for.
    /// Dispose the result when the unit is done.
    /// </summary>
    /// <param name="name">What the work is, e.g. <c>orders</c>; the log names the work still running at the drain deadline.</param>
    /// <returns>A scope that ends the unit of work when disposed (disposing it twice is harmless).</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is <see langword="null"/>, empty or white space.</exception>
    /// <remarks>
    /// The host's stop waits, during the server drain and at most until the drain timeout, until no unit of work is running; then
    /// hosted services stop (a <c>BackgroundService</c>'s stopping token fires). A consumer should stop taking new work when
    /// <see cref="DrainStarted"/> fires, finish the unit in hand, and may watch <see cref="DrainDeadline"/> to give up in time.
    /// </remarks>
    IDisposable BeginWork(string name);
}
