namespace GracefulShutdown.Eureka.Internal;

/// <summary>An instance as a Eureka server (or an old one) describes it. Absent values are null.</summary>
internal sealed record EurekaInstance
{
    public string? InstanceId { get; init; }

    public string? App { get; init; }

    public string? HostName { get; init; }

    public string? IpAddr { get; init; }

    public EurekaStatus Status { get; init; }

    public EurekaStatus OverriddenStatus { get; init; }

    public int? Port { get; init; }

    public bool PortEnabled { get; init; }

    public int? SecurePort { get; init; }

    public bool SecurePortEnabled { get; init; }

    public string? VipAddress { get; init; }

    public string? SecureVipAddress { get; init; }

    public string? HomePageUrl { get; init; }

    public string? StatusPageUrl { get; init; }

    public string? HealthCheckUrl { get; init; }

    public string? DataCenterName { get; init; }

    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();

    public EurekaLease? Lease { get; init; }

    public long? LastUpdatedTimestamp { get; init; }

    public long? LastDirtyTimestamp { get; init; }

    public string? ActionType { get; init; }

    public bool IsCoordinatingDiscoveryServer { get; init; }

    /// <summary>The id Eureka keys the instance by: <c>instanceId</c>, else the host name.</summary>
    public string? Id => string.IsNullOrEmpty(InstanceId) ? HostName : InstanceId;
}

internal sealed record EurekaLease(int RenewalIntervalInSecs, int DurationInSecs, long RegistrationTimestamp, long LastRenewalTimestamp,
    long EvictionTimestamp, long ServiceUpTimestamp);

internal sealed record EurekaApplication(string Name, IReadOnlyList<EurekaInstance> Instances);

internal sealed record EurekaApplications(string? VersionsDelta, string? AppsHashCode, IReadOnlyList<EurekaApplication> Applications);
