using System.Globalization;

namespace GracefulShutdown.Eureka.Internal;

/// <summary>
/// Who this instance is to Eureka, resolved once the server has started (the port is known then). Immutable.
/// </summary>
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

    public RegisterRequest ToRegisterRequest(EurekaStatus status, EurekaStatus overriddenStatus, long lastDirtyTimestamp)
    {
        string timestamp = lastDirtyTimestamp.ToString(CultureInfo.InvariantCulture);
        var metadata = new Dictionary<string, string>(Metadata, StringComparer.Ordinal);
        if (metadata.Count == 0)
        {
            // What the Java codec writes for an empty map; some servers fail on a bare {}.
            metadata["@class"] = "java.util.Collections$EmptyMap";
        }

        return new RegisterRequest
        {
            Instance = new InstancePayload
            {
                InstanceId = InstanceId,
                HostName = HostName,
                App = AppName,
                IpAddr = IpAddress,
                Status = status.ToWire(),
                OverriddenStatus = overriddenStatus.ToWire(),
                Port = new PortPayload { Value = Port, Enabled = PortEnabled ? "true" : "false" },
                SecurePort = new PortPayload { Value = SecurePort, Enabled = SecurePortEnabled ? "true" : "false" },
                LeaseInfo = new LeasePayload { RenewalIntervalInSecs = LeaseRenewalIntervalInSeconds, DurationInSecs = LeaseExpirationDurationInSeconds },
                Metadata = metadata,
                HomePageUrl = HomePageUrl,
                StatusPageUrl = StatusPageUrl,
                HealthCheckUrl = HealthCheckUrl,
                SecureHealthCheckUrl = SecureHealthCheckUrl,
                VipAddress = VipAddress,
                SecureVipAddress = SecureVipAddress,
                LastUpdatedTimestamp = timestamp,
                LastDirtyTimestamp = timestamp,
            },
        };
    }
}
