using System.Globalization;
using System.Text.Json.Serialization;
using GracefulShutdown.Eureka.Configuration;

namespace GracefulShutdown.Eureka.Client;

/// <summary>The register body, <c>{"instance":{…}}</c>, in the shape the Java server's codec writes and reads.</summary>
internal sealed class RegisterRequest
{
    [JsonPropertyName("instance")]
    public required InstancePayload Instance { get; init; }

    public static RegisterRequest Create(EurekaInstanceIdentity identity, EurekaStatus status, EurekaStatus overriddenStatus, long lastDirtyTimestamp)
    {
        string timestamp = lastDirtyTimestamp.ToString(CultureInfo.InvariantCulture);
        var metadata = new Dictionary<string, string>(identity.Metadata, StringComparer.Ordinal);
        if (metadata.Count == 0)
        {
            // What the Java codec writes for an empty map; some servers fail on a bare {}.
            metadata["@class"] = "java.util.Collections$EmptyMap";
        }

        return new RegisterRequest
        {
            Instance = new InstancePayload
            {
                InstanceId = identity.InstanceId,
                HostName = identity.HostName,
                App = identity.AppName,
                IpAddr = identity.IpAddress,
                Status = status.ToWire(),
                OverriddenStatus = overriddenStatus.ToWire(),
                Port = new PortPayload { Value = identity.Port, Enabled = identity.PortEnabled ? "true" : "false" },
                SecurePort = new PortPayload { Value = identity.SecurePort, Enabled = identity.SecurePortEnabled ? "true" : "false" },
                LeaseInfo = new LeasePayload
                {
                    RenewalIntervalInSecs = identity.LeaseRenewalIntervalInSeconds,
                    DurationInSecs = identity.LeaseExpirationDurationInSeconds,
                },
                Metadata = metadata,
                HomePageUrl = identity.HomePageUrl,
                StatusPageUrl = identity.StatusPageUrl,
                HealthCheckUrl = identity.HealthCheckUrl,
                SecureHealthCheckUrl = identity.SecureHealthCheckUrl,
                VipAddress = identity.VipAddress,
                SecureVipAddress = identity.SecureVipAddress,
                LastUpdatedTimestamp = timestamp,
                LastDirtyTimestamp = timestamp,
            },
        };
    }
}

internal sealed class InstancePayload
{
    [JsonPropertyName("instanceId")]
    public required string InstanceId { get; init; }

    [JsonPropertyName("hostName")]
    public required string HostName { get; init; }

    [JsonPropertyName("app")]
    public required string App { get; init; }

    [JsonPropertyName("ipAddr")]
    public required string IpAddr { get; init; }

    [JsonPropertyName("status")]
    public required string Status { get; init; }

    // Lower-case: the spelling both old servers and current ones (which accept either) read.
    [JsonPropertyName("overriddenstatus")]
    public required string OverriddenStatus { get; init; }

    [JsonPropertyName("port")]
    public required PortPayload Port { get; init; }

    [JsonPropertyName("securePort")]
    public required PortPayload SecurePort { get; init; }

    [JsonPropertyName("countryId")]
    public int CountryId { get; init; } = 1;

    [JsonPropertyName("dataCenterInfo")]
    public DataCenterPayload DataCenterInfo { get; init; } = new();

    [JsonPropertyName("leaseInfo")]
    public required LeasePayload LeaseInfo { get; init; }

    [JsonPropertyName("metadata")]
    public required Dictionary<string, string> Metadata { get; init; }

    [JsonPropertyName("homePageUrl")]
    public required string HomePageUrl { get; init; }

    [JsonPropertyName("statusPageUrl")]
    public required string StatusPageUrl { get; init; }

    [JsonPropertyName("healthCheckUrl")]
    public required string HealthCheckUrl { get; init; }

    [JsonPropertyName("secureHealthCheckUrl")]
    public string? SecureHealthCheckUrl { get; init; }

    [JsonPropertyName("vipAddress")]
    public required string VipAddress { get; init; }

    [JsonPropertyName("secureVipAddress")]
    public required string SecureVipAddress { get; init; }

    [JsonPropertyName("isCoordinatingDiscoveryServer")]
    public string IsCoordinatingDiscoveryServer { get; init; } = "false";

    [JsonPropertyName("lastUpdatedTimestamp")]
    public required string LastUpdatedTimestamp { get; init; }

    [JsonPropertyName("lastDirtyTimestamp")]
    public required string LastDirtyTimestamp { get; init; }
}

internal sealed class PortPayload
{
    [JsonPropertyName("$")]
    public int Value { get; init; }

    // A string, as the Java server writes it.
    [JsonPropertyName("@enabled")]
    public required string Enabled { get; init; }
}

internal sealed class DataCenterPayload
{
    [JsonPropertyName("@class")]
    public string Class { get; init; } = "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo";

    [JsonPropertyName("name")]
    public string Name { get; init; } = "MyOwn";
}

internal sealed class LeasePayload
{
    [JsonPropertyName("renewalIntervalInSecs")]
    public int RenewalIntervalInSecs { get; init; }

    [JsonPropertyName("durationInSecs")]
    public int DurationInSecs { get; init; }
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RegisterRequest))]
internal sealed partial class EurekaJsonContext : JsonSerializerContext;
