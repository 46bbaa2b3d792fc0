namespace GracefulShutdown.Eureka.Testing.Internal;

/// <summary>
/// The registry and its status rules, modelled on the Java <c>AbstractInstanceRegistry</c>.
/// Not thread-safe by itself: every member is called under <see cref="Gate"/>.
/// </summary>
internal sealed class EurekaRegistry(TimeProvider timeProvider)
{
    private readonly SortedDictionary<string, Dictionary<string, Lease>> _apps = new(StringComparer.Ordinal);

    // Java keys the override map by instance id only, not by app.
    private readonly Dictionary<string, string> _overrides = new(StringComparer.Ordinal);

    // The delta queue without its 180 s retention: every change since start, newest lease per instance.
    private readonly Dictionary<(string App, string Id), Lease> _recentlyChanged = [];

    private long _deltaVersion;

    public object Gate { get; } = new();

    private long Now => timeProvider.GetUtcNow().ToUnixTimeMilliseconds();

    public Lease? GetLease(string app, string id) =>
        _apps.TryGetValue(app, out Dictionary<string, Lease>? leases) && leases.TryGetValue(id, out Lease? lease) ? lease : null;

    public string? GetOverride(string id) => _overrides.GetValueOrDefault(id);

    public IEnumerable<Lease> AllLeases() => _apps.Values.SelectMany(l => l.Values);

    public IReadOnlyList<(string Name, List<Lease> Leases)> Applications() =>
        [.. _apps.Where(a => a.Value.Count > 0).Select(a => (a.Key, a.Value.Values.ToList()))];

    public IReadOnlyList<(string Name, List<Lease> Leases)> DeltaApplications() =>
        [.. _recentlyChanged.Values
            .GroupBy(l => l.Holder.App!, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (g.Key, g.ToList()))];

    public long NextDeltaVersion() => ++_deltaVersion;

    /// <summary><c>STATUS_count_</c> pairs sorted by status name, over the whole registry (Java <c>getReconcileHashCode</c>).</summary>
    public string ReconcileHashCode() => HashCodeOf(AllLeases());

    public static string HashCodeOf(IEnumerable<Lease> leases)
    {
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (Lease lease in leases)
        {
            counts[lease.Holder.Status] = counts.GetValueOrDefault(lease.Holder.Status) + 1;
        }

        return string.Concat(counts.Select(c => $"{c.Key}_{c.Value}_"));
    }

    /// <summary>Java <c>AbstractInstanceRegistry.register</c>.</summary>
    public void Register(InstanceRecord registrant, bool isReplication)
    {
        long now = Now;
        string app = registrant.App!;
        string id = registrant.Id!;
        if (!_apps.TryGetValue(app, out Dictionary<string, Lease>? leases))
        {
            leases = new Dictionary<string, Lease>(StringComparer.Ordinal);
            _apps[app] = leases;
        }

        leases.TryGetValue(id, out Lease? existing);
        if (existing is not null && existing.Holder.LastDirtyTimestamp > registrant.LastDirtyTimestamp)
        {
            // The server copy is newer: keep it, as Java does.
            registrant = existing.Holder;
        }

        var lease = new Lease(registrant, now);
        if (existing is not null)
        {
            lease.ServiceUpTimestamp = existing.ServiceUpTimestamp;
        }

        leases[id] = lease;

        if (registrant.OverriddenStatus != InstanceStatus.Unknown && !_overrides.ContainsKey(id))
        {
            _overrides[id] = registrant.OverriddenStatus;
        }

        if (_overrides.TryGetValue(id, out string? overrideFromMap))
        {
            registrant.OverriddenStatus = overrideFromMap;
        }

        registrant.Status = ComputeStatus(registrant, existing, isReplication);
        if (registrant.Status == InstanceStatus.Up)
        {
            lease.ServiceUp(now);
        }

        registrant.ActionType = "ADDED";
        registrant.LastUpdatedTimestamp = now;
        _recentlyChanged[(app, id)] = lease;
    }

    /// <summary>Java <c>AbstractInstanceRegistry.renew</c>: false means 404.</summary>
    public bool Renew(string app, string id, bool isReplication)
    {
        Lease? lease = GetLease(app, id);
        if (lease is null)
        {
            return false;
        }

        string status = ComputeStatus(lease.Holder, lease, isReplication);
        if (status == InstanceStatus.Unknown)
        {
            // "possibly due to deleted override ... re-register required"
            return false;
        }

        lease.Holder.Status = status;
        lease.Renew(Now);
        return true;
    }

    /// <summary>Java <c>AbstractInstanceRegistry.statusUpdate</c>.</summary>
    public bool StatusUpdate(string app, string id, string newStatus, long? lastDirtyTimestamp)
    {
        Lease? lease = GetLease(app, id);
        if (lease is null)
        {
            return false;
        }

        long now = Now;
        lease.Renew(now);
        InstanceRecord info = lease.Holder;
        if (info.Status != newStatus)
        {
            if (newStatus == InstanceStatus.Up)
            {
                lease.ServiceUp(now);
            }

            _overrides[id] = newStatus;
            info.OverriddenStatus = newStatus;
            info.Status = newStatus;
            if (lastDirtyTimestamp is long dirty && dirty > info.LastDirtyTimestamp)
            {
                info.LastDirtyTimestamp = dirty;
            }

            MarkModified(app, id, lease, now);
        }

        return true;
    }

    /// <summary>Java <c>AbstractInstanceRegistry.deleteStatusOverride</c>.</summary>
    public bool DeleteStatusOverride(string app, string id, string newStatus, long? lastDirtyTimestamp)
    {
        Lease? lease = GetLease(app, id);
        if (lease is null)
        {
            return false;
        }

        long now = Now;
        lease.Renew(now);
        if (_overrides.Remove(id))
        {
            InstanceRecord info = lease.Holder;
            info.OverriddenStatus = InstanceStatus.Unknown;
            info.Status = newStatus;
            if (lastDirtyTimestamp is long dirty && dirty > info.LastDirtyTimestamp)
            {
                info.LastDirtyTimestamp = dirty;
            }

            MarkModified(app, id, lease, now);
        }

        return true;
    }

    /// <summary>Java <c>AbstractInstanceRegistry.internalCancel</c> (also used for eviction).</summary>
    public bool Cancel(string app, string id)
    {
        _overrides.Remove(id);
        if (!_apps.TryGetValue(app, out Dictionary<string, Lease>? leases) || !leases.Remove(id, out Lease? lease))
        {
            return false;
        }

        long now = Now;
        lease.Cancel(now);
        lease.Holder.ActionType = "DELETED";
        lease.Holder.LastUpdatedTimestamp = now;
        _recentlyChanged[(app, id)] = lease;
        return true;
    }

    /// <summary>
    /// FirstMatchWinsCompositeRule(DownOrStartingRule, OverrideExistsRule, LeaseExistsRule), then AlwaysMatch.
    /// </summary>
    private string ComputeStatus(InstanceRecord instance, Lease? existingLease, bool isReplication)
    {
        // DownOrStartingRule: anything but UP / OUT_OF_SERVICE is trusted as sent.
        if (instance.Status != InstanceStatus.Up && instance.Status != InstanceStatus.OutOfService)
        {
            return instance.Status;
        }

        // OverrideExistsRule: an admin override wins.
        if (_overrides.TryGetValue(instance.Id!, out string? overridden))
        {
            return overridden;
        }

        // LeaseExistsRule: keep an existing UP / OUT_OF_SERVICE (not for replication).
        if (!isReplication && existingLease is not null)
        {
            string existingStatus = existingLease.Holder.Status;
            if (existingStatus == InstanceStatus.Up || existingStatus == InstanceStatus.OutOfService)
            {
                return existingStatus;
            }
        }

        return instance.Status;
    }

    private void MarkModified(string app, string id, Lease lease, long now)
    {
        lease.Holder.ActionType = "MODIFIED";
        lease.Holder.LastUpdatedTimestamp = now;
        _recentlyChanged[(app, id)] = lease;
    }
}
