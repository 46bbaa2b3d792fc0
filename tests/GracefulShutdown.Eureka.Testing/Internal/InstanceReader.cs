using System.Globalization;
using System.Text.Json;
using System.Xml;
using System.Xml.Linq;

namespace GracefulShutdown.Eureka.Testing.Internal;

/// <summary>
/// Reads a register body leniently, as the Java <c>InstanceInfoDeserializer</c> / XStream converter do:
/// <c>$</c> as string or number, <c>@enabled</c> as string or boolean, <c>overriddenStatus</c> or
/// <c>overriddenstatus</c>, timestamps as string or number, nulls and unknown fields ignored.
/// </summary>
internal static class InstanceReader
{
    /// <summary>Parses <c>{"instance":{…}}</c>. Returns <see langword="null"/> with an error text when the body is unusable.</summary>
    public static InstanceRecord? ReadJson(string body, long nowMs, out string? error)
    {
        error = null;
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("instance", out JsonElement instance)
                || instance.ValueKind != JsonValueKind.Object)
            {
                error = "Expected a JSON object with root name \"instance\"";
                return null;
            }

            var record = NewRecord(nowMs);
            foreach (JsonProperty property in instance.EnumerateObject())
            {
                ApplyJson(record, property);
            }

            return record;
        }
        catch (Exception ex) when (ex is JsonException or FormatException or OverflowException or InvalidOperationException)
        {
            error = "Malformed instance: " + ex.Message;
            return null;
        }
    }

    /// <summary>Parses <c>&lt;instance&gt;…&lt;/instance&gt;</c> (XStream shape).</summary>
    public static InstanceRecord? ReadXml(string body, long nowMs, out string? error)
    {
        error = null;
        try
        {
            XElement root = XElement.Parse(body);
            if (root.Name.LocalName != "instance")
            {
                error = "Expected an XML root element <instance>";
                return null;
            }

            var record = NewRecord(nowMs);
            foreach (XElement element in root.Elements())
            {
                ApplyXml(record, element);
            }

            return record;
        }
        catch (Exception ex) when (ex is XmlException or FormatException or OverflowException)
        {
            error = "Malformed instance: " + ex.Message;
            return null;
        }
    }

    private static InstanceRecord NewRecord(long nowMs) =>
        // Java's InstanceInfo starts with both timestamps at "now" when the body omits them.
        new() { LastDirtyTimestamp = nowMs, LastUpdatedTimestamp = nowMs };

    private static void ApplyJson(InstanceRecord r, JsonProperty p)
    {
        JsonElement v = p.Value;
        switch (p.Name)
        {
            case "instanceId": r.InstanceId = Text(v); break;
            case "hostName": r.HostName = Text(v); break;
            case "app": r.App = Text(v)?.ToUpperInvariant(); break;
            case "appGroupName": r.AppGroupName = Text(v)?.ToUpperInvariant(); break;
            case "ipAddr": r.IpAddr = Text(v); break;
            case "sid": r.Sid = Text(v) ?? r.Sid; break;
            case "status": r.Status = InstanceStatus.ToEnum(Text(v) ?? InstanceStatus.Up); break;
            case "overriddenStatus":
            case "overriddenstatus": r.OverriddenStatus = InstanceStatus.ToEnum(Text(v)); break;
            case "port":
                (r.Port, r.PortEnabled) = JsonPort(v, r.Port, r.PortEnabled);
                break;
            case "securePort":
                (r.SecurePort, r.SecurePortEnabled) = JsonPort(v, r.SecurePort, r.SecurePortEnabled);
                break;
            case "countryId": r.CountryId = Int(v) ?? r.CountryId; break;
            case "dataCenterInfo":
                if (v.ValueKind == JsonValueKind.Object)
                {
                    r.HasDataCenterInfo = true;
                    r.DataCenterName = v.TryGetProperty("name", out JsonElement name) ? Text(name) : null;
                    if (v.TryGetProperty("metadata", out JsonElement dcMeta) && dcMeta.ValueKind == JsonValueKind.Object)
                    {
                        r.DataCenterMetadata = new OrderedDictionary<string, string>(StringComparer.Ordinal);
                        CopyMap(dcMeta, r.DataCenterMetadata);
                    }
                }

                break;
            case "leaseInfo":
                if (v.ValueKind == JsonValueKind.Object)
                {
                    if (v.TryGetProperty("renewalIntervalInSecs", out JsonElement interval))
                    {
                        r.RenewalIntervalInSecs = Int(interval) ?? r.RenewalIntervalInSecs;
                    }

                    if (v.TryGetProperty("durationInSecs", out JsonElement duration))
                    {
                        r.DurationInSecs = Int(duration) ?? r.DurationInSecs;
                    }
                }

                break;
            case "metadata":
                if (v.ValueKind == JsonValueKind.Object)
                {
                    CopyMap(v, r.Metadata);
                }

                break;
            case "homePageUrl": r.HomePageUrl = Text(v); break;
            case "statusPageUrl": r.StatusPageUrl = Text(v); break;
            case "healthCheckUrl": r.HealthCheckUrl = Text(v); break;
            case "secureHealthCheckUrl": r.SecureHealthCheckUrl = Text(v); break;
            case "vipAddress": r.VipAddress = Text(v); break;
            case "secureVipAddress": r.SecureVipAddress = Text(v); break;
            case "isCoordinatingDiscoveryServer": r.IsCoordinatingDiscoveryServer = Bool(v) ?? false; break;
            case "lastUpdatedTimestamp": r.LastUpdatedTimestamp = Long(v) ?? r.LastUpdatedTimestamp; break;
            case "lastDirtyTimestamp": r.LastDirtyTimestamp = Long(v) ?? r.LastDirtyTimestamp; break;
            case "asgName": r.AsgName = Text(v); break;
            default:
                // actionType is server-owned; unknown fields are ignored like Jackson's FAIL_ON_UNKNOWN_PROPERTIES=false.
                break;
        }
    }

    private static void ApplyXml(InstanceRecord r, XElement e)
    {
        string value = e.Value;
        switch (e.Name.LocalName)
        {
            case "instanceId": r.InstanceId = value; break;
            case "hostName": r.HostName = value; break;
            case "app": r.App = value.ToUpperInvariant(); break;
            case "appGroupName": r.AppGroupName = value.ToUpperInvariant(); break;
            case "ipAddr": r.IpAddr = value; break;
            case "sid": r.Sid = value; break;
            case "status": r.Status = InstanceStatus.ToEnum(value); break;
            case "overriddenStatus":
            case "overriddenstatus": r.OverriddenStatus = InstanceStatus.ToEnum(value); break;
            case "port":
                r.Port = int.Parse(value.Trim(), CultureInfo.InvariantCulture);
                r.PortEnabled = JavaBoolean((string?)e.Attribute("enabled") ?? "true");
                break;
            case "securePort":
                r.SecurePort = int.Parse(value.Trim(), CultureInfo.InvariantCulture);
                r.SecurePortEnabled = JavaBoolean((string?)e.Attribute("enabled") ?? "false");
                break;
            case "countryId": r.CountryId = int.Parse(value.Trim(), CultureInfo.InvariantCulture); break;
            case "dataCenterInfo":
                r.HasDataCenterInfo = true;
                r.DataCenterName = e.Element("name")?.Value;
                if (e.Element("metadata") is XElement dcMeta)
                {
                    r.DataCenterMetadata = new OrderedDictionary<string, string>(StringComparer.Ordinal);
                    foreach (XElement entry in dcMeta.Elements())
                    {
                        r.DataCenterMetadata[entry.Name.LocalName] = entry.Value;
                    }
                }

                break;
            case "leaseInfo":
                if (e.Element("renewalIntervalInSecs") is XElement interval)
                {
                    r.RenewalIntervalInSecs = int.Parse(interval.Value.Trim(), CultureInfo.InvariantCulture);
                }

                if (e.Element("durationInSecs") is XElement duration)
                {
                    r.DurationInSecs = int.Parse(duration.Value.Trim(), CultureInfo.InvariantCulture);
                }

                break;
            case "metadata":
                foreach (XElement entry in e.Elements())
                {
                    r.Metadata[entry.Name.LocalName] = entry.Value;
                }

                break;
            case "homePageUrl": r.HomePageUrl = value; break;
            case "statusPageUrl": r.StatusPageUrl = value; break;
            case "healthCheckUrl": r.HealthCheckUrl = value; break;
            case "secureHealthCheckUrl": r.SecureHealthCheckUrl = value; break;
            case "vipAddress": r.VipAddress = value; break;
            case "secureVipAddress": r.SecureVipAddress = value; break;
            case "isCoordinatingDiscoveryServer": r.IsCoordinatingDiscoveryServer = JavaBoolean(value); break;
            case "lastUpdatedTimestamp": r.LastUpdatedTimestamp = long.Parse(value.Trim(), CultureInfo.InvariantCulture); break;
            case "lastDirtyTimestamp": r.LastDirtyTimestamp = long.Parse(value.Trim(), CultureInfo.InvariantCulture); break;
            case "asgName": r.AsgName = value; break;
            default: break;
        }
    }

    private static (int Port, bool Enabled) JsonPort(JsonElement v, int port, bool enabled)
    {
        if (v.ValueKind == JsonValueKind.Object)
        {
            if (v.TryGetProperty("$", out JsonElement number))
            {
                port = Int(number) ?? port;
            }

            if (v.TryGetProperty("@enabled", out JsonElement flag))
            {
                enabled = Bool(flag) ?? enabled;
            }
        }
        else
        {
            port = Int(v) ?? port;
        }

        return (port, enabled);
    }

    private static void CopyMap(JsonElement source, OrderedDictionary<string, string> target)
    {
        foreach (JsonProperty entry in source.EnumerateObject())
        {
            // "@class" names the Java map type; null values appear in some client payloads.
            if (entry.Name == "@class" || Text(entry.Value) is not string text)
            {
                continue;
            }

            target[entry.Name] = text;
        }
    }

    private static string? Text(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        JsonValueKind.String => v.GetString(),
        JsonValueKind.Object or JsonValueKind.Array => null,
        _ => v.GetRawText(),
    };

    private static int? Int(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Number => v.GetInt32(),
        JsonValueKind.String => int.Parse(v.GetString()!.Trim(), CultureInfo.InvariantCulture),
        _ => null,
    };

    private static long? Long(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Number => v.GetInt64(),
        JsonValueKind.String => long.Parse(v.GetString()!.Trim(), CultureInfo.InvariantCulture),
        _ => null,
    };

    private static bool? Bool(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.String => JavaBoolean(v.GetString()),
        _ => null,
    };

    /// <summary>Java <c>Boolean.valueOf(String)</c>: only a case-insensitive "true" is true.</summary>
    private static bool JavaBoolean(string? value) => string.Equals(value?.Trim(), "true", StringComparison.OrdinalIgnoreCase);
}
