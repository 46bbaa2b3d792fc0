namespace GracefulShutdown.Eureka.Configuration;

/// <summary>Who this instance is to Eureka, resolved once the server has started (the port is known then).</summary>
internal sealed record EurekaInstanceIdentity
{
    public required string AppName { get; init; }

    public required string InstanceId { get; init; }

    public required string HostName { get; init; }

    public required string IpAddress { get; init; }

    public required int Port { get; init; }

    public required bool PortEnabled { get; init; }

    public required int SecurePort { get; init; }

    public required bool SecurePortEnabled { get; init; }

    public required string VipAddress { get; init; }

    public required string SecureVipAddress { get; init; }

    public required string HomePageUrl { get; init; }

    public required string StatusPageUrl { get; init; }

    public required string HealthCheckUrl { get; init; }

    public string? SecureHealthCheckUrl { get; init; }

    public required int LeaseRenewalIntervalInSeconds { get; init; }

    public required int LeaseExpirationDurationInSeconds { get; init; }

    public required IReadOnlyDictionary<string, string> Metadata { get; init; }

    /// <summary>The path segment for the application: Eureka compares it upper-cased.</summary>
    public string AppPath => Uri.EscapeDataString(AppName);

    public string InstancePath => Uri.EscapeDataString(InstanceId);
}
