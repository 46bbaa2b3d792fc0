using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml.Linq;

namespace GracefulShutdown.Eureka.Testing.Tests;

/// <summary>
/// The payloads the stand-in writes have the property names, order and value kinds of the real captures in
/// <c>Fixtures/</c>. Each fixture's own instance is registered, so values can be compared too (except the
/// server-owned lease and update timestamps). Normalisations for the captures' age are listed in tests/Fixtures/eureka/README.md.
/// </summary>
public sealed class ShapeTests
{
    private static readonly HashSet<string> s_serverClockFields =
        ["registrationTimestamp", "lastRenewalTimestamp", "serviceUpTimestamp", "lastUpdatedTimestamp"];

    [Fact]
    public async Task FullRegistryJson_MatchesSteeltoeCapture()
    {
        JsonObject fixture = JsonNode.Parse(Fixture.Read("steeltoe-v4_GET-apps_full-registry_response.json"))!.AsObject();
        JsonObject instance = FirstInstance(fixture);
        RenameLegacyRenewal(instance);
        // The 2016 capture predates the camelCase overriddenStatus field (Eureka 1.8.0); current servers write it after status.
        InsertAfter(instance, "status", "overriddenStatus", "UNKNOWN");
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        using HttpResponseMessage registered = await http.RegisterAsync("FOO", (JsonObject)FirstInstance(JsonNode.Parse(Fixture.Read("steeltoe-v4_GET-apps_full-registry_response.json"))!.AsObject()).DeepClone());
        Assert.Equal(HttpStatusCode.NoContent, registered.StatusCode);

        JsonElement actual = await http.GetJsonBodyAsync("apps");

        Assert.Equal(Shape(ToElement(fixture)), Shape(actual));
        Assert.Equal(Values(ToElement(fixture)), Values(actual));
    }

    [Fact]
    public async Task DeltaJson_MatchesSteeltoeCapture()
    {
        JsonObject fixture = JsonNode.Parse(Fixture.Read("steeltoe-v4_GET-apps-delta_response.json"))!.AsObject();
        JsonObject expectedInstance = FirstInstance(fixture);
        RenameLegacyRenewal(expectedInstance);
        Rename(expectedInstance, "overriddenstatus", "overriddenStatus");
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        (await http.RegisterAsync("FOO", (JsonObject)FirstInstance(JsonNode.Parse(Fixture.Read("steeltoe-v4_GET-apps-delta_response.json"))!.AsObject()).DeepClone())).Dispose();
        // Out of service and back makes the instance MODIFIED, UP, with no override left, as in the capture.
        Assert.Equal(200, await http.StatusAsync(HttpMethod.Put, "apps/FOO/localhost:foo/status?value=OUT_OF_SERVICE"));
        Assert.Equal(200, await http.StatusAsync(HttpMethod.Delete, "apps/FOO/localhost:foo/status?value=UP"));
        _ = await http.GetJsonBodyAsync("apps/delta");
        _ = await http.GetJsonBodyAsync("apps/delta");

        JsonElement actual = await http.GetJsonBodyAsync("apps/delta"); // third delta fetch: versions__delta "3"

        Assert.Equal(Shape(ToElement(fixture)), Shape(actual));
        Assert.Equal(Values(ToElement(fixture)), Values(actual));
    }

    [Fact]
    public async Task InstanceJson_HasRootWrapperAndJavaValueKinds()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1"))).Dispose();

        JsonElement root = await http.GetJsonBodyAsync("instances/a-1");
        JsonElement app = await http.GetJsonBodyAsync("apps/A");

        Assert.Equal(["instance"], root.EnumerateObject().Select(p => p.Name));
        JsonElement instance = root.GetProperty("instance");
        Assert.Equal(JsonValueKind.Number, instance.GetProperty("port").GetProperty("$").ValueKind);
        Assert.Equal("true", instance.GetProperty("port").GetProperty("@enabled").GetString());
        Assert.Equal("java.util.Collections$EmptyMap", instance.GetProperty("metadata").GetProperty("@class").GetString());
        Assert.Equal("false", instance.GetProperty("isCoordinatingDiscoveryServer").GetString());
        Assert.Equal("1000", instance.GetProperty("lastDirtyTimestamp").GetString());
        Assert.Equal(["name", "instance"], app.GetProperty("application").EnumerateObject().Select(p => p.Name));
        Assert.Equal(JsonValueKind.Array, app.GetProperty("application").GetProperty("instance").ValueKind);
    }

    [Fact]
    public async Task RegistryXml_MatchesKaryonCapture()
    {
        XElement fixture = XElement.Parse(Fixture.Read("netflix-karyon_GET-apps_response_AmazonInfo.xml"));
        XElement instanceXml = fixture.Element("application")!.Element("instance")!;
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        using HttpResponseMessage registered = await http.SendAsync(HttpMethod.Post, "apps/BLAH", instanceXml.ToString(), "application/xml");
        Assert.Equal(HttpStatusCode.NoContent, registered.StatusCode);
        // The capture predates leaseInfo/serviceUpTimestamp, which current servers write last in leaseInfo.
        instanceXml.Element("leaseInfo")!.Add(new XElement("serviceUpTimestamp", "0"));

        using HttpResponseMessage response = await http.SendAsync(HttpMethod.Get, "apps", accept: "application/xml");
        XElement actual = XElement.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(XmlShape(fixture), XmlShape(actual));
        Assert.Equal(XmlValues(fixture), XmlValues(actual));
        Assert.NotNull(eureka.GetInstance("BLAH", "i-xxxxxxx")); // AmazonInfo instance-id is the id
    }

    [Fact]
    public async Task InstanceXml_UsesXStreamShape()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1"))).Dispose();

        using HttpResponseMessage response = await http.SendAsync(HttpMethod.Get, "apps/A/a-1");
        XElement instance = XElement.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal("instance", instance.Name.LocalName);
        Assert.Equal("true", (string?)instance.Element("port")!.Attribute("enabled"));
        Assert.Equal("8080", instance.Element("port")!.Value);
        Assert.Equal("UNKNOWN", instance.Element("overriddenstatus")!.Value);
        Assert.Null(instance.Element("overriddenStatus"));
        Assert.Equal("java.util.Collections$EmptyMap", (string?)instance.Element("metadata")!.Attribute("class"));
        Assert.Equal("com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo", (string?)instance.Element("dataCenterInfo")!.Attribute("class"));
    }

    [Fact]
    public async Task LeaseInfo_UsesTimeProviderAndJavaRenewQuirk()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));
        await using var eureka = await EurekaServerStandIn.StartAsync(time);
        using var http = new EurekaHttp(eureka.BaseUri);
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1"))).Dispose();
        time.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal(200, await http.StatusAsync(HttpMethod.Put, "apps/A/a-1"));
        JsonElement lease = (await http.GetJsonBodyAsync("apps/A/a-1")).GetProperty("instance").GetProperty("leaseInfo");

        Assert.Equal(1_700_000_000_000, lease.GetProperty("registrationTimestamp").GetInt64());
        Assert.Equal(1_700_000_000_000, lease.GetProperty("serviceUpTimestamp").GetInt64());
        Assert.Equal(1_700_000_005_000 + 90_000, lease.GetProperty("lastRenewalTimestamp").GetInt64()); // renew() stores now + duration
        Assert.Equal(0, lease.GetProperty("evictionTimestamp").GetInt64());
        Assert.Equal(time.GetUtcNow(), eureka.Calls[^1].ReceivedAt);
    }

    private static JsonObject FirstInstance(JsonObject root) =>
        root["applications"]!["application"]![0]!["instance"]![0]!.AsObject();

    private static void RenameLegacyRenewal(JsonObject instance) =>
        Rename(instance["leaseInfo"]!.AsObject(), "renewalTimestamp", "lastRenewalTimestamp");

    private static void Rename(JsonObject obj, string from, string to)
    {
        List<KeyValuePair<string, JsonNode?>> entries = [.. obj];
        obj.Clear();
        foreach ((string key, JsonNode? value) in entries)
        {
            obj[key == from ? to : key] = value;
        }
    }

    private static void InsertAfter(JsonObject obj, string after, string name, string value)
    {
        List<KeyValuePair<string, JsonNode?>> entries = [.. obj];
        obj.Clear();
        foreach ((string key, JsonNode? node) in entries)
        {
            obj[key] = node;
            if (key == after)
            {
                obj[name] = value;
            }
        }
    }

    private static JsonElement ToElement(JsonNode node) => JsonDocument.Parse(node.ToJsonString()).RootElement.Clone();

    /// <summary>Every property path, in document order, with its JSON value kind.</summary>
    private static List<string> Shape(JsonElement element, string path = "$")
    {
        List<string> shape = [$"{path}:{element.ValueKind}"];
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (JsonProperty property in element.EnumerateObject())
            {
                shape.AddRange(Shape(property.Value, $"{path}.{property.Name}"));
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            int index = 0;
            foreach (JsonElement item in element.EnumerateArray())
            {
                shape.AddRange(Shape(item, $"{path}[{index++}]"));
            }
        }

        return shape;
    }

    /// <summary>Leaf values by path, leaving out the fields the server's clock decides.</summary>
    private static List<string> Values(JsonElement element, string path = "$", string name = "")
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                return [.. element.EnumerateObject().SelectMany(p => Values(p.Value, $"{path}.{p.Name}", p.Name))];
            case JsonValueKind.Array:
                return [.. element.EnumerateArray().SelectMany((item, i) => Values(item, $"{path}[{i}]"))];
            default:
                return s_serverClockFields.Contains(name) ? [] : [$"{path}={element.GetRawText()}"];
        }
    }

    private static List<string> XmlShape(XElement element, string path = "")
    {
        string here = $"{path}/{element.Name.LocalName}";
        List<string> shape = [here + string.Concat(element.Attributes().Select(a => $"[@{a.Name.LocalName}={a.Value}]"))];
        foreach (XElement child in element.Elements())
        {
            shape.AddRange(XmlShape(child, here));
        }

        return shape;
    }

    private static List<string> XmlValues(XElement element, string path = "")
    {
        string here = $"{path}/{element.Name.LocalName}";
        if (!element.HasElements)
        {
            return s_serverClockFields.Contains(element.Name.LocalName) ? [] : [$"{here}={element.Value}"];
        }

        return [.. element.Elements().SelectMany(child => XmlValues(child, here))];
    }
}
