namespace GracefulShutdown.Eureka.Testing.Internal;

/// <summary>Eureka status names, as the Java <c>InstanceStatus</c> enum spells them.</summary>
internal static class InstanceStatus
{
    public const string Up = "UP";
    public const string Down = "DOWN";
    public const string Starting = "STARTING";
    public const string OutOfService = "OUT_OF_SERVICE";
    public const string Unknown = "UNKNOWN";

    private static readonly string[] s_all = [Up, Down, Starting, OutOfService, Unknown];

    /// <summary>Java <c>InstanceStatus.toEnum</c>: case-insensitive, anything else is UNKNOWN.</summary>
    public static string ToEnum(string? value)
    {
        foreach (string status in s_all)
        {
            if (string.Equals(status, value, StringComparison.OrdinalIgnoreCase))
            {
                return status;
            }
        }

        return Unknown;
    }

    /// <summary>Java <c>InstanceStatus.valueOf</c>: exact name or failure.</summary>
    public static bool TryValueOf(string? value, out string status)
    {
        status = Array.Find(s_all, s => string.Equals(s, value, StringComparison.Ordinal)) ?? string.Empty;
        return status.Length > 0;
    }
}

/// <summary>Mutable server-side copy of an InstanceInfo. Only touched under the registry lock.</summary>
internal sealed class InstanceRecord
{
    public const string DefaultDataCenterClass = "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo";
    public const string AmazonDataCenterClass = "com.netflix.appinfo.AmazonInfo";

    public string? InstanceId { get; set; }

    public string? HostName { get; set; }

    public string? App { get; set; }

    public string? IpAddr { get; set; }

    public string? Sid { get; set; } = "na";

    public string Status { get; set; } = InstanceStatus.Up;

    public string OverriddenStatus { get; set; } = InstanceStatus.Unknown;

    public int Port { get; set; } = 7001;

    public bool PortEnabled { get; set; } = true;

    public int SecurePort { get; set; } = 7002;

    public bool SecurePortEnabled { get; set; }

    public int CountryId { get; set; } = 1;

    public bool HasDataCenterInfo { get; set; }

    public string? DataCenterName { get; set; }

    public OrderedDictionary<string, string>? DataCenterMetadata { get; set; }

    public int RenewalIntervalInSecs { get; set; } = 30;

    public int DurationInSecs { get; set; } = 90;

    public OrderedDictionary<string, string> Metadata { get; } = new(StringComparer.Ordinal);

    public string? AppGroupName { get; set; }

    public string? HomePageUrl { get; set; }

    public string? StatusPageUrl { get; set; }

    public string? HealthCheckUrl { get; set; }

    public string? SecureHealthCheckUrl { get; set; }

    public string? VipAddress { get; set; }

    public string? SecureVipAddress { get; set; }

    public bool IsCoordinatingDiscoveryServer { get; set; }

    public long LastUpdatedTimestamp { get; set; }

    public long LastDirtyTimestamp { get; set; }

    public string? ActionType { get; set; }

    public string? AsgName { get; set; }

    public bool IsAmazon => string.Equals(DataCenterName, "Amazon", StringComparison.Ordinal);

    public string DataCenterClass => IsAmazon ? AmazonDataCenterClass : DefaultDataCenterClass;

    /// <summary>Java <c>InstanceInfo.getId()</c>.</summary>
    public string? Id
    {
        get
        {
            if (!string.IsNullOrEmpty(InstanceId))
            {
                return InstanceId;
            }

            if (IsAmazon && DataCenterMetadata is not null
                && DataCenterMetadata.TryGetValue("instance-id", out string? amazonId)
                && !string.IsNullOrEmpty(amazonId))
            {
                return amazonId;
            }

            return HostName;
        }
    }
}

/// <summary>Server-side lease, as Java's <c>Lease&lt;InstanceInfo&gt;</c>.</summary>
internal sealed class Lease(InstanceRecord holder, long nowMs)
{
    public InstanceRecord Holder { get; } = holder;

    public long RegistrationTimestamp { get; } = nowMs;

    /// <summary>Java's <c>lastUpdateTimestamp</c>; <see cref="Renew"/> stores now + duration (the documented Java quirk).</summary>
    public long LastUpdateTimestamp { get; private set; } = nowMs;

    public long EvictionTimestamp { get; private set; }

    public long ServiceUpTimestamp { get; set; }

    public int RenewalCount { get; private set; }

    public void Renew(long nowMs)
    {
        LastUpdateTimestamp = nowMs + (Holder.DurationInSecs * 1000L);
        RenewalCount++;
    }

    public void ServiceUp(long nowMs)
    {
        if (ServiceUpTimestamp == 0)
        {
            ServiceUpTimestamp = nowMs;
        }
    }

    public void Cancel(long nowMs)
    {
        if (nowMs > 0)
        {
            EvictionTimestamp = nowMs;
        }
    }
}
