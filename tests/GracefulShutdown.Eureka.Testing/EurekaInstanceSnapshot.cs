namespace GracefulShutdown.Eureka.Testing;

/// <summary>A point-in-time copy of one registered instance and its lease, for test assertions.</summary>
public sealed class EurekaInstanceSnapshot
{
    /// <summary>Gets the upper-cased application name.</summary>
    public required string AppName { get; init; }

    /// <summary>Gets the registry key of the instance (Java <c>InstanceInfo.getId()</c>: instanceId, else the Amazon instance-id, else hostName).</summary>
    public required string Id { get; init; }

    /// <summary>Gets the <c>instanceId</c> field as registered, if any.</summary>
    public string? InstanceId { get; init; }

    /// <summary>Gets the host name.</summary>
    public required string HostName { get; init; }

    /// <summary>Gets the IP address.</summary>
    public required string IpAddr { get; init; }

    /// <summary>Gets the effective status (<c>UP</c>, <c>DOWN</c>, <c>STARTING</c>, <c>OUT_OF_SERVICE</c> or <c>UNKNOWN</c>).</summary>
    public required string Status { get; init; }

    /// <summary>Gets the instance's <c>overriddenStatus</c> field.</summary>
    public required string OverriddenStatus { get; init; }

    /// <summary>Gets the admin status override held by the server for this id, or <see langword="null"/> when none exists.</summary>
    public string? StatusOverride { get; init; }

    /// <summary>Gets the non-secure port.</summary>
    public required int Port { get; init; }

    /// <summary>Gets a value indicating whether the non-secure port is enabled.</summary>
    public required bool PortEnabled { get; init; }

    /// <summary>Gets the secure port.</summary>
    public required int SecurePort { get; init; }

    /// <summary>Gets a value indicating whether the secure port is enabled.</summary>
    public required bool SecurePortEnabled { get; init; }

    /// <summary>Gets the VIP address, if any.</summary>
    public string? VipAddress { get; init; }

    /// <summary>Gets the instance metadata.</summary>
    public required IReadOnlyDictionary<string, string> Metadata { get; init; }

    /// <summary>Gets <c>lastDirtyTimestamp</c> in Unix milliseconds.</summary>
    public required long LastDirtyTimestamp { get; init; }

    /// <summary>Gets <c>lastUpdatedTimestamp</c> in Unix milliseconds.</summary>
    public required long LastUpdatedTimestamp { get; init; }

    /// <summary>Gets the last <c>actionType</c> (<c>ADDED</c>, <c>MODIFIED</c> or <c>DELETED</c>).</summary>
    public string? ActionType { get; init; }

    /// <summary>Gets the lease registration time in Unix milliseconds.</summary>
    public required long RegistrationTimestamp { get; init; }

    /// <summary>Gets the lease's <c>lastRenewalTimestamp</c> (renewal time + duration after a renewal, as in Java's <c>Lease.renew()</c>).</summary>
    public required long LastRenewalTimestamp { get; init; }

    /// <summary>Gets the lease's <c>serviceUpTimestamp</c> (0 until first UP).</summary>
    public required long ServiceUpTimestamp { get; init; }

    /// <summary>Gets the number of successful lease renewals (heartbeats, status changes) since the lease was created.</summary>
    public required int RenewalCount { get; init; }
}
