namespace GracefulShutdown.Checkers;

/// <summary>
/// How one kind of health checker decides (its unhealthy threshold and interval) and how long its balancer may still route here
/// after that decision (the apply lag). The built-in values and their sources are in docs/health-checkers.md.
/// </summary>
/// <param name="Name">What the profile is named in logs and metrics (a bounded set: built-in names, "configured", "unrecognised").</param>
/// <param name="UnhealthyThreshold">Consecutive failed checks that take the target out.</param>
/// <param name="Interval">The checker's interval, assumed until its period is learned from its probes.</param>
/// <param name="ApplyLag">How long the balancer may still route here after the checker's decision.</param>
internal sealed record HealthCheckerProfile(string Name, int UnhealthyThreshold, TimeSpan Interval, TimeSpan ApplyLag)
{
    /// <summary>The key of checkers that send no User-Agent (HAProxy's <c>option httpchk</c> sends HTTP/1.0 without one).</summary>
    public const string NoUserAgent = "(none)";

    /// <summary>The profile of checkers no profile recognises: Azure Application Gateway's defaults (30 s, 3 failures) and a 10 s lag.</summary>
    public static readonly HealthCheckerProfile Unrecognised = new("unrecognised", 3, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(10));

    /// <summary>
    /// The built-in profiles by User-Agent prefix (case-insensitive). Conservative where the vendor's documentation gives a range:
    /// one User-Agent for ALB and NLB, so the NLB's lag.
    /// </summary>
    public static readonly IReadOnlyList<(string Prefix, HealthCheckerProfile Profile)> BuiltIn =
    [
        // AWS ELBv2 target groups: UnhealthyThresholdCount 2 (2–10), HealthCheckIntervalSeconds 30 (5–300); an NLB stops new
        // connections about 30–40 s after a target turns unhealthy (aws/containers-roadmap#470).
        ("ELB-HealthChecker/", new("aws-elb", 2, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(40))),

        // Google Cloud health checks: unhealthy threshold 2, check interval 5 s; the NEG data path lags "a short amount of time"
        // (kubernetes/ingress-gce#769): 10 s assumed.
        ("GoogleHC/", new("google-cloud", 2, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10))),

        // Envoy active HTTP health checks: an unexpected status (503) is unhealthy at once unless configured retriable
        // (health_check.proto, unhealthy_threshold); Envoy Gateway's defaults: unhealthy threshold 3, interval 3 s.
        ("Envoy/HC", new("envoy", 3, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(1))),

        // YARP active health checks: ConsecutiveFailures policy threshold 2, interval 15 s; applied in process.
        ("YARP/", new("yarp", 2, TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(1))),

        // HAProxy option httpchk (HTTP/1.0, no User-Agent): fall 3, inter 2 s; the server leaves the rotation on the fall-th failure.
        (NoUserAgent, new("haproxy-httpchk", 3, TimeSpan.FromSeconds(2), TimeSpan.Zero)),
    ];

    /// <summary>
    /// The profile for a User-Agent: the longest configured key that starts it (unset values from the built-in or default profile
    /// it would otherwise get), else the built-in profile, else <see cref="Unrecognised"/>. Runs once per new checker.
    /// </summary>
    public static HealthCheckerProfile For(string userAgent, IDictionary<string, HealthCheckerProfileOptions> configured)
    {
        HealthCheckerProfile builtIn = Unrecognised;
        foreach ((string prefix, HealthCheckerProfile profile) in BuiltIn)
        {
            if (Matches(userAgent, prefix))
            {
                builtIn = profile;
                break;
            }
        }

        string? best = null;
        foreach (string key in configured.Keys)
        {
            if (Matches(userAgent, key) && (best is null || key.Length > best.Length))
            {
                best = key;
            }
        }

        if (best is null)
        {
            return builtIn;
        }

        HealthCheckerProfileOptions options = configured[best];
        return new HealthCheckerProfile("configured", options.UnhealthyThreshold ?? builtIn.UnhealthyThreshold,
            options.Interval ?? builtIn.Interval, options.ApplyLag ?? builtIn.ApplyLag);
    }

    /// <summary>Whether a profile (built-in or configured) recognises the User-Agent, as opposed to the default for unrecognised ones.</summary>
    public static bool Recognises(string userAgent, IDictionary<string, HealthCheckerProfileOptions> configured)
    {
        foreach ((string prefix, _) in BuiltIn)
        {
            if (Matches(userAgent, prefix))
            {
                return true;
            }
        }

        foreach (string key in configured.Keys)
        {
            if (Matches(userAgent, key))
            {
                return true;
            }
        }

        return false;
    }

    // "(none)" matches only the absent User-Agent, never a real one that happens to start with it.
    private static bool Matches(string userAgent, string prefix) =>
        prefix == NoUserAgent || userAgent == NoUserAgent
            ? string.Equals(userAgent, prefix, StringComparison.Ordinal)
            : prefix.Length > 0 && userAgent.StartsWith(prefix, StringComparison.OrdinalIgnoreCase);
}
