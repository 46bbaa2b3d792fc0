namespace GracefulShutdown.Eureka.Testing.Internal;

/// <summary>
/// The Java server's read-only response cache (<c>ResponseCacheImpl</c> with <c>useReadOnlyResponseCache=true</c>): the registry
/// reads callers fetch (<c>GET apps</c>, <c>apps/delta</c>, <c>apps/{APP}</c>, <c>vips/…</c>, <c>svips/…</c>) are answered from a
/// copy that <see cref="Refresh"/> replaces with the registry's view every <c>responseCacheUpdateIntervalMs</c>; a key read for the
/// first time is filled with the view of that moment. Instance reads (<c>apps/{APP}/{id}</c>, <c>instances/{id}</c>) are never cached.
/// Every member is called under the registry's gate.
/// </summary>
internal sealed class ResponseCache(Func<EurekaRoute, bool, EurekaResponse> read)
{
    private readonly Dictionary<(EurekaOperation Operation, string? App, bool Json), EurekaResponse> _readOnly = [];

    public static bool Caches(EurekaOperation operation) => operation is EurekaOperation.GetApplications or EurekaOperation.GetDelta
        or EurekaOperation.GetApplication or EurekaOperation.GetVip or EurekaOperation.GetSecureVip;

    public EurekaResponse Get(EurekaRoute route, bool json)
    {
        var key = (route.Operation, route.App, json);
        if (!_readOnly.TryGetValue(key, out EurekaResponse? response))
        {
            response = read(route, json);
            _readOnly[key] = response;
        }

        return response;
    }

    /// <summary>The timer's task: every key read so far now shows the registry as it is (Java copies the read-write map's current value).</summary>
    public void Refresh()
    {
        foreach ((EurekaOperation operation, string? app, bool json) in _readOnly.Keys.ToArray())
        {
            _readOnly[(operation, app, json)] = read(new EurekaRoute(operation, app, null, false), json);
        }
    }
}
