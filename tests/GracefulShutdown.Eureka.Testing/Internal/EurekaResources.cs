using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace GracefulShutdown.Eureka.Testing.Internal;

/// <summary>A response decided by the resources, before it is written.</summary>
internal sealed record EurekaResponse(int StatusCode, string? ContentType = null, string? Body = null, bool MayGzip = false)
{
    public static EurekaResponse Status(int statusCode) => new(statusCode);

    public static EurekaResponse Text(int statusCode, string text) => new(statusCode, "text/plain", text);
}

/// <summary>What the resources need from a request.</summary>
internal sealed record EurekaRequest(EurekaRoute Route, IQueryCollection Query, string? Body, string? ContentType, bool WantsJson, bool IsReplication);

/// <summary>
/// The Jersey resources (<c>ApplicationsResource</c>, <c>ApplicationResource</c>, <c>InstanceResource</c>,
/// <c>InstancesResource</c>, <c>AbstractVIPResource</c>) over <see cref="EurekaRegistry"/>, with the read-only response cache
/// when one is given.
/// </summary>
internal sealed class EurekaResources(EurekaRegistry registry, TimeProvider timeProvider)
{
    /// <summary>Gets the response cache, or <see langword="null"/> when reads reflect the registry at once.</summary>
    public ResponseCache? Cache { get; private set; }

    /// <summary>Serves registry reads from a read-only response cache from now on; the owner refreshes it on its timer.</summary>
    public ResponseCache UseResponseCache() => Cache ??= new ResponseCache(ReadUncached);

    public EurekaResponse Execute(EurekaRequest request, bool uncached = false)
    {
        lock (registry.Gate)
        {
            EurekaRoute route = request.Route;
            if (!uncached && Cache is ResponseCache cache && ResponseCache.Caches(route.Operation) && !route.MethodNotAllowed)
            {
                return cache.Get(route, request.WantsJson);
            }

            return route.Operation switch
            {
                EurekaOperation.Register => Register(request),
                EurekaOperation.Heartbeat => Heartbeat(request),
                EurekaOperation.Cancel => EurekaResponse.Status(registry.Cancel(route.App!, route.Id!) ? 200 : 404),
                EurekaOperation.StatusOverride => StatusOverride(request),
                EurekaOperation.DeleteStatusOverride => DeleteStatusOverride(request),
                EurekaOperation.MetadataUpdate => MetadataUpdate(request),
                EurekaOperation.GetApplications => Applications(request, "1", registry.ReconcileHashCode(), registry.Applications()),
                EurekaOperation.GetDelta => Applications(
                    request,
                    registry.NextDeltaVersion().ToString(CultureInfo.InvariantCulture),
                    registry.ReconcileHashCode(), // the delta's hash covers the whole registry
                    registry.DeltaApplications()),
                EurekaOperation.GetApplication => Application(request),
                EurekaOperation.GetInstance => Instance(request, registry.GetLease(route.App!, route.Id!)),
                EurekaOperation.GetInstanceById => Instance(request, registry.AllLeases().FirstOrDefault(l => l.Holder.Id == route.Id)),
                EurekaOperation.GetVip => Vip(request, secure: false),
                EurekaOperation.GetSecureVip => Vip(request, secure: true),
                _ => EurekaResponse.Status(route.MethodNotAllowed ? 405 : 404),
            };
        }
    }

    /// <summary>A registry read as the read-write cache would compute it now (regions and other query parameters are ignored).</summary>
    private EurekaResponse ReadUncached(EurekaRoute route, bool json) =>
        Execute(new EurekaRequest(route, QueryCollection.Empty, null, null, json, IsReplication: false), uncached: true);

    private EurekaResponse Register(EurekaRequest request)
    {
        string? contentType = request.ContentType;
        long now = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        string? error;
        InstanceRecord? info;
        if (contentType is null || contentType.Contains("json", StringComparison.OrdinalIgnoreCase))
        {
            info = InstanceReader.ReadJson(request.Body ?? string.Empty, now, out error);
        }
        else if (contentType.Contains("xml", StringComparison.OrdinalIgnoreCase))
        {
            info = InstanceReader.ReadXml(request.Body ?? string.Empty, now, out error);
        }
        else
        {
            // Jersey's @Consumes({json, xml}).
            return EurekaResponse.Status(415);
        }

        if (info is null)
        {
            return EurekaResponse.Text(400, error!);
        }

        string expectedApp = request.Route.App!;
        string? validation =
            string.IsNullOrWhiteSpace(info.Id) ? "Missing instanceId"
            : string.IsNullOrWhiteSpace(info.HostName) ? "Missing hostname"
            : string.IsNullOrWhiteSpace(info.IpAddr) ? "Missing ip address"
            : string.IsNullOrWhiteSpace(info.App) ? "Missing appName"
            : expectedApp != info.App ? $"Mismatched appName, expecting {expectedApp} but was {info.App}"
            : !info.HasDataCenterInfo ? "Missing dataCenterInfo"
            : info.DataCenterName is null ? "Missing dataCenterInfo Name"
            : null;
        if (validation is not null)
        {
            return EurekaResponse.Text(400, validation);
        }

        registry.Register(info, request.IsReplication);
        return EurekaResponse.Status(204); // "204 to be backwards compatible"
    }

    private EurekaResponse Heartbeat(EurekaRequest request)
    {
        EurekaRoute route = request.Route;
        if (!registry.Renew(route.App!, route.Id!, request.IsReplication))
        {
            return EurekaResponse.Status(404);
        }

        if (!TryReadDirtyTimestamp(request, out long? clientDirty))
        {
            return EurekaResponse.Status(500);
        }

        Lease? lease = registry.GetLease(route.App!, route.Id!);
        if (clientDirty is long dirty && lease is not null && dirty != lease.Holder.LastDirtyTimestamp)
        {
            if (dirty > lease.Holder.LastDirtyTimestamp)
            {
                // The client knows something newer: make it re-register (InstanceResource.validateDirtyTimestamp).
                return EurekaResponse.Status(request.IsReplication ? 200 : 404);
            }

            if (request.IsReplication)
            {
                return Serialize(request, 409, PayloadWriter.InstanceJson(lease), PayloadWriter.InstanceXml(lease), mayGzip: false);
            }
        }

        return EurekaResponse.Status(200);
    }

    private EurekaResponse StatusOverride(EurekaRequest request)
    {
        EurekaRoute route = request.Route;
        if (registry.GetLease(route.App!, route.Id!) is null)
        {
            return EurekaResponse.Status(404);
        }

        // InstanceStatus.valueOf(null or bad value) throws; the resource turns that into 500.
        if (!InstanceStatus.TryValueOf(request.Query["value"].FirstOrDefault(), out string status)
            || !TryReadDirtyTimestamp(request, out long? dirty))
        {
            return EurekaResponse.Status(500);
        }

        return EurekaResponse.Status(registry.StatusUpdate(route.App!, route.Id!, status, dirty) ? 200 : 500);
    }

    private EurekaResponse DeleteStatusOverride(EurekaRequest request)
    {
        EurekaRoute route = request.Route;
        if (registry.GetLease(route.App!, route.Id!) is null)
        {
            return EurekaResponse.Status(404);
        }

        string? value = request.Query["value"].FirstOrDefault();
        string status = InstanceStatus.Unknown;
        if ((value is not null && !InstanceStatus.TryValueOf(value, out status)) || !TryReadDirtyTimestamp(request, out long? dirty))
        {
            return EurekaResponse.Status(500);
        }

        return EurekaResponse.Status(registry.DeleteStatusOverride(route.App!, route.Id!, status, dirty) ? 200 : 500);
    }

    private EurekaResponse MetadataUpdate(EurekaRequest request)
    {
        EurekaRoute route = request.Route;
        Lease? lease = registry.GetLease(route.App!, route.Id!);
        if (lease is null)
        {
            return EurekaResponse.Status(404);
        }

        foreach (KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues> pair in request.Query)
        {
            lease.Holder.Metadata[pair.Key] = pair.Value.FirstOrDefault() ?? string.Empty;
        }

        // InstanceResource.updateMetadata re-registers the same InstanceInfo.
        registry.Register(lease.Holder, isReplication: false);
        return EurekaResponse.Status(200);
    }

    private EurekaResponse Application(EurekaRequest request)
    {
        string app = request.Route.App!;
        (string Name, List<Lease> Leases) match = registry.Applications().FirstOrDefault(a => a.Name == app);
        if (match.Leases is null)
        {
            return EurekaResponse.Status(404);
        }

        return Serialize(
            request,
            200,
            PayloadWriter.ApplicationJson(match.Name, match.Leases),
            PayloadWriter.ApplicationXml(match.Name, match.Leases),
            mayGzip: true);
    }

    private EurekaResponse Vip(EurekaRequest request, bool secure)
    {
        string vip = request.Route.App!;
        List<(string Name, List<Lease> Leases)> apps = [];
        foreach ((string name, List<Lease> leases) in registry.Applications())
        {
            List<Lease> matching = leases
                .Where(l => (secure ? l.Holder.SecureVipAddress : l.Holder.VipAddress)?.Split(',').Contains(vip, StringComparer.Ordinal) == true)
                .ToList();
            if (matching.Count > 0)
            {
                apps.Add((name, matching));
            }
        }

        if (apps.Count == 0)
        {
            return EurekaResponse.Status(404);
        }

        // A VIP answer is a fresh Applications object: the Java default version (-1) and a hash over what it holds.
        return Applications(request, "-1", EurekaRegistry.HashCodeOf(apps.SelectMany(a => a.Leases)), apps);
    }

    private static EurekaResponse Instance(EurekaRequest request, Lease? lease) =>
        lease is null
            ? EurekaResponse.Status(404)
            : Serialize(request, 200, PayloadWriter.InstanceJson(lease), PayloadWriter.InstanceXml(lease), mayGzip: false);

    private static EurekaResponse Applications(
        EurekaRequest request, string version, string hashCode, IReadOnlyList<(string Name, List<Lease> Leases)> apps) =>
        Serialize(
            request,
            200,
            PayloadWriter.ApplicationsJson(version, hashCode, apps),
            PayloadWriter.ApplicationsXml(version, hashCode, apps),
            mayGzip: true);

    private static EurekaResponse Serialize(EurekaRequest request, int status, string json, string xml, bool mayGzip) =>
        request.WantsJson
            ? new EurekaResponse(status, "application/json", json, mayGzip)
            : new EurekaResponse(status, "application/xml", xml, mayGzip);

    private static bool TryReadDirtyTimestamp(EurekaRequest request, out long? value)
    {
        value = null;
        string? text = request.Query["lastDirtyTimestamp"].FirstOrDefault();
        if (text is null)
        {
            return true;
        }

        // Java's Long.valueOf: a bad value throws and the resource answers 500.
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long parsed))
        {
            value = parsed;
            return true;
        }

        return false;
    }
}
