namespace GracefulShutdown.Eureka;

/// <summary>
/// How the application talks to the Eureka servers, bound from the <c>eureka:client</c> configuration section
/// (the keys Steeltoe uses, so an existing configuration keeps working).
/// </summary>
public class EurekaClientOptions
{
    /// <summary>The configuration section the options bind from.</summary>
    public const string SectionName = "eureka:client";

    /// <summary>
    /// Gets or sets the Eureka server URLs, comma-separated, for example <c>http://eureka-0:8761/eureka/,http://eureka-1:8761/eureka/</c>.
    /// Calls go to the first server that answers; a server that fails or times out is skipped for the next one.
    /// </summary>
    /// <value>
    /// The default value is <see langword="null"/>: the client is off and nothing is registered.
    /// Each URL must be an absolute <c>http</c> or <c>https</c> URI.
    /// </value>
    public string? ServiceUrl { get; set; }

    /// <summary>Gets or sets a value indicating whether the client is on at all (Steeltoe's <c>eureka:client:enabled</c>).</summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool Enabled { get; set; } = true;

    /// <summary>Gets or sets a value indicating whether this instance registers itself with Eureka.</summary>
    /// <value>The default value is <see langword="true"/>. When <see langword="false"/> the client stays off.</value>
    public bool ShouldRegisterWithEureka { get; set; } = true;

    /// <summary>
    /// Gets or sets how long one call to one Eureka server may take before it is abandoned (and the next server is tried).
    /// </summary>
    /// <value>The default value is 5 seconds. Between 1 and 300.</value>
    public int RequestTimeoutSeconds { get; set; } = 5;

    /// <summary>
    /// Gets or sets the longest pause between two registration attempts while no Eureka server answers.
    /// The pause starts at 1 second and doubles after each failed attempt up to this value.
    /// </summary>
    /// <value>The default value is 30 seconds. Between 1 and 3600.</value>
    public int RetryMaximumIntervalSeconds { get; set; } = 30;

    /// <summary>
    /// Gets or sets how long callers may keep calling this instance after Eureka has marked it out of service:
    /// the server's response cache refresh, the callers' registry fetch interval and their load-balancer cache, added up.
    /// At start-up a warning is logged when <c>GracefulShutdown:TrafficWait:Maximum</c> is shorter.
    /// </summary>
    /// <value>
    /// The default value is 90 seconds: Eureka's defaults (30 s response cache + 30 s registry fetch + about 30 s load-balancer cache).
    /// Zero turns the warning off. Zero or more.
    /// </value>
    public int PropagationSeconds { get; set; } = 90;

    /// <summary>
    /// Gets or sets how often, while the traffic wait runs, the client reads the application as callers fetch it from each Eureka
    /// server's response cache (<c>GET apps/{app}</c>), until every server's cached view shows this instance <c>OUT_OF_SERVICE</c>,
    /// <c>DOWN</c> or gone. From that moment only the callers' registry fetch and load-balancer cache remain
    /// (<see cref="CallerFetchIntervalSeconds"/> + <see cref="CallerLoadBalancerCacheSeconds"/>), and that bounds the traffic wait.
    /// </summary>
    /// <value>The default value is 2 seconds. Zero turns the reads off (the wait is then bounded by <c>TrafficWait:Maximum</c> alone). Between 0 and 60.</value>
    public int CachedViewPollSeconds { get; set; } = 2;

    /// <summary>
    /// Gets or sets how often the callers of this application fetch the registry (their <c>registryFetchIntervalSeconds</c>; this
    /// client's own Steeltoe key of that name is about this application fetching, which it does not do, and is ignored).
    /// </summary>
    /// <value>The default value is 30 seconds, the Java, Spring Cloud and Steeltoe clients' default. Between 0 and 3600.</value>
    public int CallerFetchIntervalSeconds { get; set; } = 30;

    /// <summary>
    /// Gets or sets how long the callers' load balancers keep the instance list they took from their registry copy (Spring Cloud
    /// LoadBalancer's cache TTL, Ribbon's server-list refresh).
    /// </summary>
    /// <value>The default value is 35 seconds: Spring Cloud LoadBalancer's TTL (Ribbon refreshes every 30 s). Between 0 and 3600.</value>
    public int CallerLoadBalancerCacheSeconds { get; set; } = 35;
}
