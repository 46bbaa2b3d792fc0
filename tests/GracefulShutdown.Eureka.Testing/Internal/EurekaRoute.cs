namespace GracefulShutdown.Eureka.Testing.Internal;

/// <summary>The result of matching a request path against the Eureka resources.</summary>
/// <param name="Operation">The operation, or <see cref="EurekaOperation.Unknown"/>.</param>
/// <param name="App">The upper-cased app name (or VIP address for the VIP routes).</param>
/// <param name="Id">The instance id.</param>
/// <param name="MethodNotAllowed">True when the path is a Eureka resource but the method is not served there.</param>
internal readonly record struct EurekaRoute(EurekaOperation Operation, string? App, string? Id, bool MethodNotAllowed)
{
    private static readonly EurekaRoute s_notFound = new(EurekaOperation.Unknown, null, null, false);

    /// <summary>
    /// Matches <c>/eureka/{resource}…</c> and <c>/eureka/v2/{resource}…</c>, as Spring Cloud's filter rewrites the
    /// first onto the second. Jersey upper-cases the app segment; ids and VIP addresses stay as sent.
    /// </summary>
    public static EurekaRoute Match(string method, string path)
    {
        string[] s = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (s.Length < 2 || s[0] != "eureka")
        {
            return s_notFound;
        }

        int start = s[1] == "v2" ? 2 : 1;
        string[] r = s[start..];
        if (r.Length == 0)
        {
            return s_notFound;
        }

        bool get = HttpMethodIs(method, "GET");
        bool put = HttpMethodIs(method, "PUT");
        bool post = HttpMethodIs(method, "POST");
        bool delete = HttpMethodIs(method, "DELETE");

        switch (r[0])
        {
            case "apps" when r.Length == 1:
                return get ? new(EurekaOperation.GetApplications, null, null, false) : NotAllowed();
            case "apps" when r.Length == 2:
                string app = r[1].ToUpperInvariant();
                if (get)
                {
                    return r[1] == "delta"
                        ? new(EurekaOperation.GetDelta, null, null, false)
                        : new(EurekaOperation.GetApplication, app, null, false);
                }

                return post ? new(EurekaOperation.Register, app, null, false) : NotAllowed();
            case "apps" when r.Length == 3:
                string appName = r[1].ToUpperInvariant();
                if (get)
                {
                    return new(EurekaOperation.GetInstance, appName, r[2], false);
                }

                if (put)
                {
                    return new(EurekaOperation.Heartbeat, appName, r[2], false);
                }

                return delete ? new(EurekaOperation.Cancel, appName, r[2], false) : NotAllowed();
            case "apps" when r.Length == 4 && r[3] == "status":
                if (put)
                {
                    return new(EurekaOperation.StatusOverride, r[1].ToUpperInvariant(), r[2], false);
                }

                return delete ? new(EurekaOperation.DeleteStatusOverride, r[1].ToUpperInvariant(), r[2], false) : NotAllowed();
            case "apps" when r.Length == 4 && r[3] == "metadata":
                return put ? new(EurekaOperation.MetadataUpdate, r[1].ToUpperInvariant(), r[2], false) : NotAllowed();
            case "instances" when r.Length == 2:
                return get ? new(EurekaOperation.GetInstanceById, null, r[1], false) : NotAllowed();
            case "vips" when r.Length == 2:
                return get ? new(EurekaOperation.GetVip, r[1], null, false) : NotAllowed();
            case "svips" when r.Length == 2:
                return get ? new(EurekaOperation.GetSecureVip, r[1], null, false) : NotAllowed();
            default:
                return s_notFound;
        }
    }

    private static EurekaRoute NotAllowed() => new(EurekaOperation.Unknown, null, null, true);

    private static bool HttpMethodIs(string method, string expected) => string.Equals(method, expected, StringComparison.OrdinalIgnoreCase);
}
