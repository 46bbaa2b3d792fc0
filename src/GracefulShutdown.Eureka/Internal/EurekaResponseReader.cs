using System.Globalization;
using System.Text.Json;

namespace GracefulShutdown.Eureka.Internal;

/// <summary>Why a response body could not be read.</summary>
internal enum EurekaReadError
{
    None = 0,

    /// <summary>The body is empty.</summary>
    Empty,

    /// <summary>The body is XML: the server ignored <c>Accept: application/json</c>. This client reads JSON only.</summary>
    Xml,

    /// <summary>The body is not valid JSON.</summary>
    MalformedJson,

    /// <summary>The body is JSON but not the expected root object.</summary>
    UnexpectedShape,
}

/// <summary>The outcome of reading a response body: a value, or why there is none.</summary>
internal readonly record struct EurekaReadResult<T>(T? Value, EurekaReadError Error, string? Detail)
    where T : class
{
    public bool Succeeded => Error == EurekaReadError.None && Value is not null;

    public static EurekaReadResult<T> Ok(T value) => new(value, EurekaReadError.None, null);

    public static EurekaReadResult<T> Fail(EurekaReadError error, string detail) => new(null, error, detail);
}

/// <summary>
/// Reads Eureka's JSON leniently, as the Java server's own deserialisers do, so that current, old (XStream-JSON) and
/// third-party servers all parse: <c>$</c> as a string or a number, <c>@enabled</c> as a string or a boolean,
/// <c>instance</c> and <c>application</c> as an array or a single object, <c>overriddenStatus</c> or <c>overriddenstatus</c>,
/// the legacy <c>leaseInfo.renewalTimestamp</c>, timestamps as numbers or strings, and explicit nulls anywhere.
/// Unknown fields are ignored. It never throws on content; it reports what was wrong instead.
/// </summary>
internal static class EurekaResponseReader
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip };

    /// <summary>Reads <c>{"instance":{…}}</c> (or a bare instance object).</summary>
    public static EurekaReadResult<EurekaInstance> ReadInstance(ReadOnlyMemory<byte> utf8) =>
        Read(utf8, static root =>
        {
            JsonElement instance = TryGet(root, "instance", out JsonElement inner) && inner.ValueKind == JsonValueKind.Object ? inner : root;
            return LooksLikeInstance(instance) ? ReadInstanceObject(instance) : null;
        }, "an object with an \"instance\" object");

    /// <summary>Reads <c>{"application":{…}}</c>.</summary>
    public static EurekaReadResult<EurekaApplication> ReadApplication(ReadOnlyMemory<byte> utf8) =>
        Read(utf8, static root => TryGet(root, "application", out JsonElement app) && app.ValueKind == JsonValueKind.Object
            ? ReadApplicationObject(app) : null, "an object with an \"application\" object");

    /// <summary>Reads <c>{"applications":{…}}</c>, the full registry or a delta.</summary>
    public static EurekaReadResult<EurekaApplications> ReadApplications(ReadOnlyMemory<byte> utf8) =>
        Read(utf8, static root =>
        {
            if (!TryGet(root, "applications", out JsonElement apps) || apps.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            var list = new List<EurekaApplication>();
            if (TryGet(apps, "application", out JsonElement application))
            {
                foreach (JsonElement app in OneOrMany(application))
                {
                    list.Add(ReadApplicationObject(app));
                }
            }

            return new EurekaApplications(GetString(apps, "versions__delta"), GetString(apps, "apps__hashcode"), list);
        }, "an object with an \"applications\" object");

    private static EurekaReadResult<T> Read<T>(ReadOnlyMemory<byte> utf8, Func<JsonElement, T?> read, string expected)
        where T : class
    {
        ReadOnlySpan<byte> span = utf8.Span;
        if (span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            utf8 = utf8[3..];
            span = utf8.Span;
        }

        int start = 0;
        while (start < span.Length && span[start] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
        {
            start++;
        }

        if (start == span.Length)
        {
            return EurekaReadResult<T>.Fail(EurekaReadError.Empty, "The response body is empty.");
        }

        if (span[start] == (byte)'<')
        {
            return EurekaReadResult<T>.Fail(EurekaReadError.Xml, "The response body is XML; this client reads only JSON (it sends Accept: application/json).");
        }

        try
        {
            using JsonDocument document = JsonDocument.Parse(utf8, DocumentOptions);
            if (document.RootElement.ValueKind == JsonValueKind.Object && read(document.RootElement) is T value)
            {
                return EurekaReadResult<T>.Ok(value);
            }

            return EurekaReadResult<T>.Fail(EurekaReadError.UnexpectedShape,
                $"Expected {expected}; the JSON root is {Describe(document.RootElement)}.");
        }
        catch (JsonException ex)
        {
            return EurekaReadResult<T>.Fail(EurekaReadError.MalformedJson, $"The response body is not valid JSON: {ex.Message}");
        }
        catch (InvalidOperationException ex)
        {
            // A value of an unexpected kind deep inside (defensive: the accessors below check kinds first).
            return EurekaReadResult<T>.Fail(EurekaReadError.UnexpectedShape, $"Unexpected JSON value: {ex.Message}");
        }
    }

    private static string Describe(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return root.ValueKind.ToString();
        }

        string[] names = root.EnumerateObject().Select(static p => p.Name).Take(5).ToArray();
        return names.Length == 0 ? "an empty object" : "an object with " + string.Join(", ", names.Select(static n => $"\"{n}\""));
    }

    private static bool LooksLikeInstance(JsonElement element) =>
        element.ValueKind == JsonValueKind.Object &&
        (TryGet(element, "instanceId", out _) || TryGet(element, "hostName", out _) || TryGet(element, "app", out _));

    private static EurekaApplication ReadApplicationObject(JsonElement app)
    {
        var instances = new List<EurekaInstance>();
        if (app.ValueKind == JsonValueKind.Object && TryGet(app, "instance", out JsonElement instance))
        {
            foreach (JsonElement item in OneOrMany(instance))
            {
                if (item.ValueKind == JsonValueKind.Object)
                {
                    instances.Add(ReadInstanceObject(item));
                }
            }
        }

        return new EurekaApplication(app.ValueKind == JsonValueKind.Object ? GetString(app, "name") ?? string.Empty : string.Empty, instances);
    }

    private static EurekaInstance ReadInstanceObject(JsonElement e)
    {
        (int? port, bool portEnabled) = ReadPort(e, "port", defaultEnabled: true);
        (int? securePort, bool securePortEnabled) = ReadPort(e, "securePort", defaultEnabled: false);
        string? dataCenter = TryGet(e, "dataCenterInfo", out JsonElement dc) && dc.ValueKind == JsonValueKind.Object ? GetString(dc, "name") : null;

        return new EurekaInstance
        {
            InstanceId = GetString(e, "instanceId"),
            App = GetString(e, "app"),
            HostName = GetString(e, "hostName"),
            IpAddr = GetString(e, "ipAddr"),
            Status = EurekaStatusNames.Parse(GetString(e, "status")),
            OverriddenStatus = EurekaStatusNames.Parse(GetString(e, "overriddenStatus") ?? GetString(e, "overriddenstatus")),
            Port = port,
            PortEnabled = portEnabled,
            SecurePort = securePort,
            SecurePortEnabled = securePortEnabled,
            VipAddress = GetString(e, "vipAddress"),
            SecureVipAddress = GetString(e, "secureVipAddress"),
            HomePageUrl = GetString(e, "homePageUrl"),
            StatusPageUrl = GetString(e, "statusPageUrl"),
            HealthCheckUrl = GetString(e, "healthCheckUrl"),
            DataCenterName = dataCenter,
            Metadata = ReadMetadata(e),
            Lease = ReadLease(e),
            LastUpdatedTimestamp = GetLong(e, "lastUpdatedTimestamp"),
            LastDirtyTimestamp = GetLong(e, "lastDirtyTimestamp"),
            ActionType = GetString(e, "actionType"),
            IsCoordinatingDiscoveryServer = GetBool(e, "isCoordinatingDiscoveryServer") ?? false,
        };
    }

    private static (int? Port, bool Enabled) ReadPort(JsonElement e, string name, bool defaultEnabled)
    {
        if (!TryGet(e, name, out JsonElement port))
        {
            return (null, defaultEnabled);
        }

        if (port.ValueKind == JsonValueKind.Object)
        {
            return (GetInt(port, "$"), GetBool(port, "@enabled") ?? defaultEnabled);
        }

        // Some writers flatten the port to a bare value.
        return (AsInt(port), defaultEnabled);
    }

    private static EurekaLease? ReadLease(JsonElement e)
    {
        if (!TryGet(e, "leaseInfo", out JsonElement lease) || lease.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        return new EurekaLease(
            GetInt(lease, "renewalIntervalInSecs") ?? 30,
            GetInt(lease, "durationInSecs") ?? 90,
            GetLong(lease, "registrationTimestamp") ?? 0,
            GetLong(lease, "lastRenewalTimestamp") ?? GetLong(lease, "renewalTimestamp") ?? 0,
            GetLong(lease, "evictionTimestamp") ?? 0,
            GetLong(lease, "serviceUpTimestamp") ?? 0);
    }

    private static Dictionary<string, string> ReadMetadata(JsonElement e)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!TryGet(e, "metadata", out JsonElement map) || map.ValueKind != JsonValueKind.Object)
        {
            return metadata;
        }

        foreach (JsonProperty property in map.EnumerateObject())
        {
            // "@class" is the Java type marker (e.g. java.util.Collections$EmptyMap), not metadata.
            if (property.Name.StartsWith('@') || AsString(property.Value) is not string value)
            {
                continue;
            }

            metadata[property.Name] = value;
        }

        return metadata;
    }

    private static IEnumerable<JsonElement> OneOrMany(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Array => element.EnumerateArray(),
        JsonValueKind.Object => [element],
        _ => [],
    };

    private static bool TryGet(JsonElement e, string name, out JsonElement value)
    {
        if (e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null)
        {
            return true;
        }

        value = default;
        return false;
    }

    private static string? GetString(JsonElement e, string name) => TryGet(e, name, out JsonElement v) ? AsString(v) : null;

    private static int? GetInt(JsonElement e, string name) => TryGet(e, name, out JsonElement v) ? AsInt(v) : null;

    private static long? GetLong(JsonElement e, string name) => TryGet(e, name, out JsonElement v) ? AsLong(v) : null;

    private static bool? GetBool(JsonElement e, string name) => TryGet(e, name, out JsonElement v) ? AsBool(v) : null;

    private static string? AsString(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.String => v.GetString(),
        JsonValueKind.Number => v.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => null,
    };

    private static int? AsInt(JsonElement v) => AsLong(v) is long l && l is >= int.MinValue and <= int.MaxValue ? (int)l : null;

    private static long? AsLong(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Number when v.TryGetInt64(out long l) => l,
        JsonValueKind.String when long.TryParse(v.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long l) => l,
        _ => null,
    };

    private static bool? AsBool(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.String when bool.TryParse(v.GetString(), out bool b) => b,
        _ => null,
    };
}
