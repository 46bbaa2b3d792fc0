namespace GracefulShutdown;

/// <summary>
/// The time a shutdown may take, measured from the start of the drain, and how the phases share it: the traffic wait, then the
/// drain (long-lived connections close first, the server drain gets the rest), then the stop work — all inside the pod's
/// termination grace period. Every phase reads it from here; nothing else adds the durations up.
/// </summary>
/// <remarks>
/// <para>
/// The library computes it once from the options (<see cref="IGracefulShutdown.Budget"/>). Sums saturate at
/// <see cref="TimeSpan.MaxValue"/> instead of overflowing, so an out-of-range option is reported by validation, not by a crash.
/// </para>
/// <para>Timeline, from the drain's start:</para>
/// <code>
/// |-- traffic wait (≤ TrafficWaitMaximum) --|-- drain (DrainTimeout): close, then server drain --|-- stop work (StopMargin) --|
///                                                                                    StopDeadline ^         exit ^ ≤ TerminationGracePeriod
/// </code>
/// <para>
/// When the platform's real deadline is shorter than the configured grace period (a pod deleted with <c>--grace-period=8</c>,
/// an eviction), <see cref="FitTo"/> gives the budget fitted to it.
/// </para>
/// </remarks>
public sealed class ShutdownBudget
{
    /// <summary>The most any timer in the library can wait: 4,294,967,294 ms (about 49.7 days).</summary>
    internal static readonly TimeSpan TimerLimit = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    private static readonly TimeSpan s_exitReserveCap = TimeSpan.FromSeconds(1);

    internal ShutdownBudget(TimeSpan terminationGracePeriod, TimeSpan trafficWaitMaximum, TimeSpan drainTimeout,
        TimeSpan drainCancellationLead, TimeSpan stopMargin, TimeSpan? closeTimeout)
    {
        TerminationGracePeriod = terminationGracePeriod;
        TrafficWaitMaximum = trafficWaitMaximum;
        DrainTimeout = drainTimeout;
        DrainCancellationLead = drainCancellationLead;
        StopMargin = stopMargin;

        // The close ends by the time DrainDeadline would fire, so that the server drain keeps at least the cancellation lead.
        TimeSpan room = Subtract(drainTimeout, drainCancellationLead);
        CloseTimeout = closeTimeout ?? (room > TimeSpan.Zero ? room : drainTimeout);
        Total = Add(Add(trafficWaitMaximum, drainTimeout), stopMargin);
        ExitReserve = Min(s_exitReserveCap, stopMargin / 2);
        TimeSpan latest = Subtract(terminationGracePeriod, ExitReserve);
        StopDeadline = Total < latest ? Total : Max(TimeSpan.Zero, latest);
    }

    private ShutdownBudget(ShutdownBudget configured, TimeSpan terminationGracePeriod, TimeSpan trafficWaitMaximum, TimeSpan drainTimeout,
        TimeSpan stopMargin, TimeSpan closeTimeout)
    {
        TerminationGracePeriod = terminationGracePeriod;
        TrafficWaitMaximum = trafficWaitMaximum;
        DrainTimeout = drainTimeout;
        DrainCancellationLead = configured.DrainCancellationLead;
        StopMargin = stopMargin;
        CloseTimeout = closeTimeout;
        Total = Add(Add(trafficWaitMaximum, drainTimeout), stopMargin);

        // The exit keeps what the configuration gave it: the process still exits before the (shorter) deadline.
        ExitReserve = configured.ExitReserve;
        TimeSpan latest = Subtract(terminationGracePeriod, ExitReserve);
        StopDeadline = Total < latest ? Total : Max(TimeSpan.Zero, latest);
        IsFitted = true;
    }

    /// <summary>Gets the pod's termination grace period: from the start of termination to SIGKILL.</summary>
    public TimeSpan TerminationGracePeriod { get; }

    /// <summary>Gets the longest traffic wait.</summary>
    public TimeSpan TrafficWaitMaximum { get; }

    /// <summary>Gets the drain's length once the traffic wait is over: the close of long-lived connections and the server drain.</summary>
    public TimeSpan DrainTimeout { get; }

    /// <summary>Gets how long before the end of the drain <see cref="IGracefulShutdown.DrainDeadline"/> fires.</summary>
    public TimeSpan DrainCancellationLead { get; }

    /// <summary>Gets the time kept after the drain for the stop work (hosted services' <c>StopAsync</c>, deregistration, log flush).</summary>
    public TimeSpan StopMargin { get; }

    /// <summary>
    /// Gets the longest close of long-lived connections (and any other step between the traffic wait and the server drain),
    /// counted within <see cref="DrainTimeout"/>.
    /// </summary>
    public TimeSpan CloseTimeout { get; }

    /// <summary>Gets the whole budget: <see cref="TrafficWaitMaximum"/> + <see cref="DrainTimeout"/> + <see cref="StopMargin"/>.</summary>
    public TimeSpan Total { get; }

    /// <summary>
    /// Gets the time kept at the very end for the process to exit once the host's stop token has fired (report, log flush):
    /// half of <see cref="StopMargin"/>, at most one second.
    /// </summary>
    public TimeSpan ExitReserve { get; }

    /// <summary>
    /// Gets when, from the drain's start, the host's stop token fires for every hosted service: <see cref="Total"/>, but no later
    /// than <see cref="ExitReserve"/> before the grace period ends, so the process exits before SIGKILL.
    /// </summary>
    public TimeSpan StopDeadline { get; }

    /// <summary>
    /// Gets whether this budget was fitted to a deadline shorter than the configured grace period (<see cref="FitTo"/>), rather
    /// than computed from the options.
    /// </summary>
    public bool IsFitted { get; }

    /// <summary>
    /// Returns the budget fitted to a grace period shorter than <see cref="TerminationGracePeriod"/>: the platform's real
    /// deadline, counted from the start of the drain. The phases give up time in this order, each step only once the one before
    /// it is not enough, until the traffic wait, the drain and the stop work end <see cref="ExitReserve"/> before the deadline:
    /// <list type="number">
    /// <item>the traffic wait, down to the drain's length (the server keeps serving during the wait, so requests in flight go
    /// on either way; what the wait keeps spares the requests balancers still send);</item>
    /// <item>the stop work, down to <see cref="ExitReserve"/>;</item>
    /// <item>the traffic wait and the drain in equal parts, so the drain never has less than the wait (within the drain the
    /// close window of long-lived connections gives up time before the server drain's own part);</item>
    /// <item>the rest of the stop work.</item>
    /// </list>
    /// <see cref="ExitReserve"/> and <see cref="DrainCancellationLead"/> stay as configured, so the process exits before the
    /// deadline.
    /// </summary>
    /// <param name="gracePeriod">
    /// The time from the start of the drain until the platform kills the process. Zero or less (the deadline already passed):
    /// every phase gets nothing and the process exits at once.
    /// </param>
    /// <returns>
    /// This budget when <paramref name="gracePeriod"/> is not shorter than <see cref="TerminationGracePeriod"/>; otherwise the
    /// fitted budget, whose <see cref="TerminationGracePeriod"/> is <paramref name="gracePeriod"/>.
    /// </returns>
    public ShutdownBudget FitTo(TimeSpan gracePeriod)
    {
        if (gracePeriod >= TerminationGracePeriod)
        {
            return this;
        }

        gracePeriod = Max(gracePeriod, TimeSpan.Zero);
        TimeSpan room = Max(TimeSpan.Zero, gracePeriod - ExitReserve);

        // The drain is the close window and the server drain's own part after it.
        TimeSpan close = Min(CloseTimeout, DrainTimeout);
        TimeSpan serverPart = DrainTimeout - close;
        TimeSpan wait = TrafficWaitMaximum;
        TimeSpan stop = StopMargin;

        TimeSpan over = Subtract(Add(Add(wait, DrainTimeout), stop), room);
        wait -= Cut(ref over, wait - Min(wait, DrainTimeout));
        stop -= Cut(ref over, stop - Min(stop, ExitReserve));

        // Equal parts: half of what is still over from each (the wait's half rounded up, so it never ends longer than the
        // drain), and what one cannot give from the other.
        TimeSpan half = TimeSpan.FromTicks(over.Ticks - (over.Ticks / 2));
        TimeSpan fromWait = Cut(ref half, wait);
        over -= fromWait;
        TimeSpan fromClose = Cut(ref over, close);
        TimeSpan fromServer = Cut(ref over, serverPart);
        wait -= fromWait + Cut(ref over, wait - fromWait);
        close -= fromClose;
        serverPart -= fromServer;
        stop -= Cut(ref over, stop);
        return new ShutdownBudget(this, gracePeriod, wait, close + serverPart, stop, close);
    }

    /// <summary>Takes up to <paramref name="available"/> off what is still <paramref name="over"/>; returns what it took.</summary>
    private static TimeSpan Cut(ref TimeSpan over, TimeSpan available)
    {
        TimeSpan cut = Max(TimeSpan.Zero, Min(over, available));
        over -= cut;
        return cut;
    }

    /// <summary>Computes the budget that options describe.</summary>
    /// <param name="options">The options.</param>
    /// <returns>The budget.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is <see langword="null"/>.</exception>
    public static ShutdownBudget From(GracefulShutdownOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new(options.TerminationGracePeriod, options.TrafficWait.Maximum,
            options.DrainTimeout, options.DrainCancellationLead, options.StopMargin, options.Connections.CloseTimeout);
    }

    /// <summary>What is left of the drain for the server once the steps before it used <paramref name="spent"/>.</summary>
    internal TimeSpan ServerDrainTime(TimeSpan spent) => Max(TimeSpan.Zero, DrainTimeout - spent);

    /// <summary>When, from the start of the server drain, <see cref="IGracefulShutdown.DrainDeadline"/> fires.</summary>
    internal TimeSpan DrainDeadline(TimeSpan serverDrainTime) => Max(TimeSpan.Zero, serverDrainTime - DrainCancellationLead);

    /// <summary>
    /// The host's stop timeout when the host is told to stop <paramref name="sinceDrainStart"/> after the drain began, the steps
    /// before the server drain having used <paramref name="spent"/>: what is left until <see cref="StopDeadline"/>, and never less
    /// than the rest of the drain plus the stop work (a drain begun long before by <c>DrainAsync()</c> has its budget anew).
    /// </summary>
    internal TimeSpan HostStopTimeout(TimeSpan sinceDrainStart, TimeSpan spent)
    {
        TimeSpan floor = Max(TimeSpan.Zero, ServerDrainTime(spent) + StopMargin - ExitReserve);
        return Max(StopDeadline - sinceDrainStart, floor);
    }

    /// <summary>A sum that saturates instead of overflowing.</summary>
    internal static TimeSpan Add(TimeSpan a, TimeSpan b) => Saturate((Int128)a.Ticks + b.Ticks);

    /// <summary>A difference that saturates instead of overflowing.</summary>
    internal static TimeSpan Subtract(TimeSpan a, TimeSpan b) => Saturate((Int128)a.Ticks - b.Ticks);

    private static TimeSpan Saturate(Int128 ticks) =>
        ticks > long.MaxValue ? TimeSpan.MaxValue : ticks < long.MinValue ? TimeSpan.MinValue : new TimeSpan((long)ticks);

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
