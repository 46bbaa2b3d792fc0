namespace GracefulShutdown.Eureka;

/// <summary>
/// What this instance registers as, bound from the <c>eureka:instance</c> configuration section (Steeltoe's keys).
/// Everything left unset is taken from the host once it has started.
/// </summary>
public class EurekaInstanceOptions
{
    /// <summary>The configuration section the options bind from.</summary>
    public const string SectionName = "eureka:instance";

    /// <summary>Gets or sets the application name. Eureka upper-cases it.</summary>
    /// <value>The default value is <see langword="null"/>: <c>IHostEnvironment.ApplicationName</c>.</value>
    public string? AppName { get; set; }

    /// <summary>Gets or sets the instance id, unique within the application.</summary>
    /// <value>The default value is <see langword="null"/>: <c>{hostName}:{appName}:{port}</c>.</value>
    public string? InstanceId { get; set; }

    /// <summary>Gets or sets the host name callers use unless <see cref="PreferIpAddress"/> is set.</summary>
    /// <value>The default value is <see langword="null"/>: the machine's DNS host name (the pod name in Kubernetes).</value>
    public string? HostName { get; set; }

    /// <summary>Gets or sets the IP address registered for the instance.</summary>
    /// <value>The default value is <see langword="null"/>: the first non-loopback IPv4 address that is up, else <c>127.0.0.1</c>. Must be an IP address when set.</value>
    public string? IpAddress { get; set; }

    /// <summary>Gets or sets a value indicating whether the URLs registered for the instance use the IP address rather than the host name.</summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool PreferIpAddress { get; set; }

    /// <summary>Gets or sets the plain HTTP port.</summary>
    /// <value>The default value is 0: the port of the server's first <c>http</c> address, read once the server has started. Between 0 and 65535.</value>
    public int Port { get; set; }

    /// <summary>Gets or sets the HTTPS port.</summary>
    /// <value>The default value is 0: the port of the server's first <c>https</c> address, if any. Between 0 and 65535.</value>
    public int SecurePort { get; set; }

    /// <summary>Gets or sets the virtual (VIP) address callers look the application up by.</summary>
    /// <value>The default value is <see langword="null"/>: the application name.</value>
    public string? VipAddress { get; set; }

    /// <summary>Gets or sets the secure virtual (VIP) address.</summary>
    /// <value>The default value is <see langword="null"/>: the application name.</value>
    public string? SecureVipAddress { get; set; }

    /// <summary>Gets or sets how often the instance renews its lease (the heartbeat interval).</summary>
    /// <value>The default value is 30 seconds. Between 1 and 3600.</value>
    public int LeaseRenewalIntervalInSeconds { get; set; } = 30;

    /// <summary>Gets or sets how long Eureka keeps the lease without a heartbeat before it may evict the instance.</summary>
    /// <value>The default value is 90 seconds. Greater than <see cref="LeaseRenewalIntervalInSeconds"/>.</value>
    public int LeaseExpirationDurationInSeconds { get; set; } = 90;

    /// <summary>Gets the metadata registered with the instance.</summary>
    /// <value>Empty by default. Keys must not be empty or start with <c>@</c>.</value>
    public IDictionary<string, string> MetadataMap { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Gets or sets the path of the status page registered for the instance (Eureka's dashboard links it).</summary>
    /// <value>The default value is <c>/info</c>. Must start with <c>/</c>.</value>
    public string StatusPageUrlPath { get; set; } = "/info";

    /// <summary>Gets or sets the path of the health check URL registered for the instance.</summary>
    /// <value>The default value is <see langword="null"/>: the readiness probe path (<c>GracefulShutdown:Endpoints:ReadinessPath</c>). Must start with <c>/</c> when set.</value>
    public string? HealthCheckUrlPath { get; set; }
}
