namespace GracefulShutdown.Checkers;

/// <summary>What one health checker did during a drain, for the log line (event 110), the metrics and the report.</summary>
/// <param name="UserAgent">Its User-Agent, <c>(none)</c> without one, or <see cref="Others"/>.</param>
/// <param name="Source">Its source address.</param>
/// <param name="Profile">The profile it was judged by.</param>
/// <param name="Period">Its learned period; <see langword="null"/> until two probes were seen.</param>
/// <param name="SeenBeforeDrain">Whether it probed in the window before the drain, and so was part of the decision.</param>
/// <param name="ProbesAfterDrain">Its probes after the drain began.</param>
/// <param name="ConsecutiveFailures">The consecutive non-2xx answers it got last.</param>
/// <param name="LastProbe">Its last probe after the drain began, from the drain start.</param>
/// <param name="LetGoAt">When it let go, from the drain start; <see langword="null"/> if it had not when the wait ended.</param>
/// <param name="ByFailures">Whether it let go (or would) by failures rather than by falling silent.</param>
internal sealed record HealthCheckerVerdict(string UserAgent, string Source, HealthCheckerProfile Profile, TimeSpan? Period,
    bool SeenBeforeDrain, int ProbesAfterDrain, int ConsecutiveFailures, TimeSpan? LastProbe, TimeSpan? LetGoAt, bool ByFailures)
{
    /// <summary>The checkers that did not fit the ledger, summed.</summary>
    public const string Others = "(others)";

    /// <summary>Gets how long the checker's balancer needs at most to let go by its profile: threshold × period + apply lag.</summary>
    public TimeSpan Needs => TimeSpan.FromSeconds(Profile.UnhealthyThreshold * (Period ?? Profile.Interval).TotalSeconds) + Profile.ApplyLag;
}
