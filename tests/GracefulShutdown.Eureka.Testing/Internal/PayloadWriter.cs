using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Xml;

namespace GracefulShutdown.Eureka.Testing.Internal;

/// <summary>
/// Writes instances, applications and registries in the shapes the Java server emits:
/// JSON as <c>EurekaJacksonCodec</c> (LegacyJacksonJson) does, XML as the XStream converters do.
/// </summary>
internal static class PayloadWriter
{
    private static readonly JsonWriterOptions s_jsonOptions = new()
    {
        // Keep '$', '@' and '+' readable; the Java writer does not escape them either.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static readonly XmlWriterSettings s_xmlSettings = new()
    {
        OmitXmlDeclaration = true,
        Encoding = new UTF8Encoding(false),
        Indent = false,
    };

    public static string InstanceJson(Lease lease) => Json(w =>
    {
        w.WriteStartObject();
        w.WritePropertyName("instance");
        WriteInstance(w, lease);
        w.WriteEndObject();
    });

    public static string ApplicationJson(string name, IReadOnlyList<Lease> leases) => Json(w =>
    {
        w.WriteStartObject();
        w.WritePropertyName("application");
        WriteApplication(w, name, leases);
        w.WriteEndObject();
    });

    public static string ApplicationsJson(string versionDelta, string hashCode, IReadOnlyList<(string Name, List<Lease> Leases)> apps) => Json(w =>
    {
        w.WriteStartObject();
        w.WriteStartObject("applications");
        w.WriteString("versions__delta", versionDelta);
        w.WriteString("apps__hashcode", hashCode);
        w.WriteStartArray("application");
        foreach ((string name, List<Lease> leases) in apps)
        {
            WriteApplication(w, name, leases);
        }

        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndObject();
    });

    public static string InstanceXml(Lease lease) => Xml(w => WriteInstance(w, lease));

    public static string ApplicationXml(string name, IReadOnlyList<Lease> leases) => Xml(w => WriteApplication(w, name, leases));

    public static string ApplicationsXml(string versionDelta, string hashCode, IReadOnlyList<(string Name, List<Lease> Leases)> apps) => Xml(w =>
    {
        w.WriteStartElement("applications");
        w.WriteElementString("versions__delta", versionDelta);
        w.WriteElementString("apps__hashcode", hashCode);
        foreach ((string name, List<Lease> leases) in apps)
        {
            WriteApplication(w, name, leases);
        }

        w.WriteEndElement();
    });

    private static void WriteApplication(Utf8JsonWriter w, string name, IReadOnlyList<Lease> leases)
    {
        w.WriteStartObject();
        w.WriteString("name", name);

        // Modern servers always write an array, even for one instance.
        w.WriteStartArray("instance");
        foreach (Lease lease in leases)
        {
            WriteInstance(w, lease);
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteInstance(Utf8JsonWriter w, Lease lease)
    {
        InstanceRecord i = lease.Holder;
        w.WriteStartObject();
        if (i.InstanceId is not null)
        {
            w.WriteString("instanceId", i.InstanceId);
        }

        w.WriteString("hostName", i.HostName);
        w.WriteString("app", i.App);
        w.WriteString("ipAddr", i.IpAddr);
        if (WritesSid(i.Sid))
        {
            w.WriteString("sid", i.Sid);
        }

        w.WriteString("status", i.Status);
        w.WriteString("overriddenStatus", i.OverriddenStatus);
        WritePort(w, "port", i.Port, i.PortEnabled);
        WritePort(w, "securePort", i.SecurePort, i.SecurePortEnabled);
        w.WriteNumber("countryId", i.CountryId);

        w.WriteStartObject("dataCenterInfo");
        w.WriteString("@class", i.DataCenterClass);
        w.WriteString("name", i.DataCenterName);
        if (i.IsAmazon && i.DataCenterMetadata is not null)
        {
            w.WriteStartObject("metadata");
            foreach (KeyValuePair<string, string> entry in i.DataCenterMetadata)
            {
                w.WriteString(entry.Key, entry.Value);
            }

            w.WriteEndObject();
        }

        w.WriteEndObject();

        w.WriteStartObject("leaseInfo");
        w.WriteNumber("renewalIntervalInSecs", i.RenewalIntervalInSecs);
        w.WriteNumber("durationInSecs", i.DurationInSecs);
        w.WriteNumber("registrationTimestamp", lease.RegistrationTimestamp);
        w.WriteNumber("lastRenewalTimestamp", lease.LastUpdateTimestamp);
        w.WriteNumber("evictionTimestamp", lease.EvictionTimestamp);
        w.WriteNumber("serviceUpTimestamp", lease.ServiceUpTimestamp);
        w.WriteEndObject();

        w.WriteStartObject("metadata");
        if (i.Metadata.Count == 0)
        {
            w.WriteString("@class", "java.util.Collections$EmptyMap");
        }

        foreach (KeyValuePair<string, string> entry in i.Metadata)
        {
            w.WriteString(entry.Key, entry.Value);
        }

        w.WriteEndObject();

        // The @Auto fields: every non-null one as a string, in declaration order.
        foreach ((string name, string? value) in AutoFields(i))
        {
            if (value is not null)
            {
                w.WriteString(name, value);
            }
        }

        w.WriteEndObject();
    }

    private static void WritePort(Utf8JsonWriter w, string name, int port, bool enabled)
    {
        w.WriteStartObject(name);
        w.WriteNumber("$", port);
        w.WriteString("@enabled", enabled ? "true" : "false");
        w.WriteEndObject();
    }

    private static void WriteApplication(XmlWriter w, string name, IReadOnlyList<Lease> leases)
    {
        w.WriteStartElement("application");
        w.WriteElementString("name", name);
        foreach (Lease lease in leases)
        {
            WriteInstance(w, lease);
        }

        w.WriteEndElement();
    }

    private static void WriteInstance(XmlWriter w, Lease lease)
    {
        InstanceRecord i = lease.Holder;
        w.WriteStartElement("instance");
        if (i.InstanceId is not null)
        {
            w.WriteElementString("instanceId", i.InstanceId);
        }

        w.WriteElementString("hostName", i.HostName);
        w.WriteElementString("app", i.App);
        w.WriteElementString("ipAddr", i.IpAddr);
        if (WritesSid(i.Sid))
        {
            w.WriteElementString("sid", i.Sid);
        }

        w.WriteElementString("status", i.Status);
        w.WriteElementString("overriddenstatus", i.OverriddenStatus);
        WritePort(w, "port", i.Port, i.PortEnabled);
        WritePort(w, "securePort", i.SecurePort, i.SecurePortEnabled);
        w.WriteElementString("countryId", Invariant(i.CountryId));

        w.WriteStartElement("dataCenterInfo");
        w.WriteAttributeString("class", i.DataCenterClass);
        w.WriteElementString("name", i.DataCenterName);
        if (i.IsAmazon && i.DataCenterMetadata is not null)
        {
            w.WriteStartElement("metadata");
            foreach (KeyValuePair<string, string> entry in i.DataCenterMetadata)
            {
                w.WriteElementString(entry.Key, entry.Value);
            }

            w.WriteEndElement();
        }

        w.WriteEndElement();

        w.WriteStartElement("leaseInfo");
        w.WriteElementString("renewalIntervalInSecs", Invariant(i.RenewalIntervalInSecs));
        w.WriteElementString("durationInSecs", Invariant(i.DurationInSecs));
        w.WriteElementString("registrationTimestamp", Invariant(lease.RegistrationTimestamp));
        w.WriteElementString("lastRenewalTimestamp", Invariant(lease.LastUpdateTimestamp));
        w.WriteElementString("evictionTimestamp", Invariant(lease.EvictionTimestamp));
        w.WriteElementString("serviceUpTimestamp", Invariant(lease.ServiceUpTimestamp));
        w.WriteEndElement();

        w.WriteStartElement("metadata");
        if (i.Metadata.Count == 0)
        {
            w.WriteAttributeString("class", "java.util.Collections$EmptyMap");
        }

        foreach (KeyValuePair<string, string> entry in i.Metadata)
        {
            w.WriteElementString(entry.Key, entry.Value);
        }

        w.WriteEndElement();

        foreach ((string name, string? value) in AutoFields(i))
        {
            if (value is not null)
            {
                w.WriteElementString(name, value);
            }
        }

        w.WriteEndElement();
    }

    private static void WritePort(XmlWriter w, string name, int port, bool enabled)
    {
        w.WriteStartElement(name);
        w.WriteAttributeString("enabled", enabled ? "true" : "false");
        w.WriteString(Invariant(port));
        w.WriteEndElement();
    }

    private static IEnumerable<(string Name, string? Value)> AutoFields(InstanceRecord i) =>
    [
        ("appGroupName", i.AppGroupName),
        ("homePageUrl", i.HomePageUrl),
        ("statusPageUrl", i.StatusPageUrl),
        ("healthCheckUrl", i.HealthCheckUrl),
        ("secureHealthCheckUrl", i.SecureHealthCheckUrl),
        ("vipAddress", i.VipAddress),
        ("secureVipAddress", i.SecureVipAddress),
        ("isCoordinatingDiscoveryServer", i.IsCoordinatingDiscoveryServer ? "true" : "false"),
        ("lastUpdatedTimestamp", Invariant(i.LastUpdatedTimestamp)),
        ("lastDirtyTimestamp", Invariant(i.LastDirtyTimestamp)),
        ("actionType", i.ActionType),
        ("asgName", i.AsgName),
    ];

    private static bool WritesSid(string? sid) => sid is not null && sid != "na" && sid != "unknown";

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Json(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, s_jsonOptions))
        {
            write(writer);
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static string Xml(Action<XmlWriter> write)
    {
        var builder = new StringBuilder();
        using (var writer = XmlWriter.Create(builder, s_xmlSettings))
        {
            write(writer);
        }

        return builder.ToString();
    }
}
