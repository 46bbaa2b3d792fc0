using GracefulShutdown.Hosting;

namespace GracefulShutdown;

/// <summary>
/// How one kind of health checker decides and how long its balancer takes to act on that decision, bound from
/// <c>GracefulShutdown:HealthCheckers:Profiles:{User-Agent}</c>. Unset values keep the built-in profile's.
/// </summary>
public class HealthCheckerProfileOptions
{
    /// <summary>Gets or sets how many consecutive failed checks make the balancer take the target out (its unhealthy threshold).</summary>
    /// <value>The default value is <see langword="null"/> (the built-in profile's). Between 1 and 100.</value>
    [Between(1, 100)]
    public int? UnhealthyThreshold { get; set; }

    /// <summary>Gets or sets the checker's interval, assumed until its period has been learned from two probes.</summary>
    /// <value>The default value is <see langword="null"/> (the built-in profile's). Between 100 milliseconds and 10 minutes.</value>
    [Duration(Minimum = "00:00:00.1", Maximum = "00:10:00")]
    public TimeSpan? Interval { get; set; }

    /// <summary>
    /// Gets or sets how long the balancer may still route here after its checker decided the target is unhealthy or deregistered
    /// (for example about 40 s for an AWS NLB).
    /// </summary>
    /// <value>The default value is <see langword="null"/> (the built-in profile's). Zero or more, at most 1 hour.</value>
    [Duration(Maximum = "01:00:00")]
    public TimeSpan? ApplyLag { get; set; }
}
