using System.Text;
using System.Text.Json.Nodes;
using GracefulShutdown.Eureka.Client;

namespace GracefulShutdown.Eureka.Tests.Client;

/// <summary>
/// Reads the payloads in tests/Fixtures/eureka (provenance in its SOURCES.md). The client reads only an instance's statuses; a
/// registry payload or XML must be reported as such, never mis-parsed or thrown on.
/// </summary>
public class EurekaResponseReaderTests
{
    private static byte[] Fixture(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", name));

    /// <summary>The first instance of a registry fixture, as <c>GET apps/{app}/{id}</c> would return it.</summary>
    private static byte[] FirstInstanceOf(string registryFixture)
    {
        JsonNode application = JsonNode.Parse(Fixture(registryFixture))!["applications"]!["application"]!;
        JsonNode instance = (application is JsonArray apps ? apps[0]! : application)["instance"]!;
        JsonNode first = instance is JsonArray instances ? instances[0]! : instance;
        return Encoding.UTF8.GetBytes(new JsonObject { ["instance"] = first.DeepClone() }.ToJsonString());
    }

    public static TheoryData<string> AllFixtures()
    {
        var data = new TheoryData<string>();
        foreach (string file in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Fixtures")).Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileName(file);
            if (name.EndsWith(".json", StringComparison.Ordinal) || name.EndsWith(".xml", StringComparison.Ordinal))
            {
                data.Add(name);
            }
        }

        return data;
    }

    [Fact]
    public void Fixtures_AreAllCopied()
    {
        Assert.Equal(6, AllFixtures().Count);
    }

    [Theory]
    [MemberData(nameof(AllFixtures))]
    public void EveryFixture_IsReadOrRecognisedAsXml_WithoutThrowing(string name)
    {
        EurekaReadResult<EurekaInstanceStatus> result = EurekaResponseReader.ReadInstanceStatus(Fixture(name));

        EurekaReadError expected = name.EndsWith(".xml", StringComparison.Ordinal) ? EurekaReadError.Xml
            : name.Contains("GET-apps", StringComparison.Ordinal) ? EurekaReadError.UnexpectedShape   // a registry, not an instance
            : EurekaReadError.None;
        Assert.Equal(expected, result.Error);
        Assert.Equal(expected == EurekaReadError.None, result.Succeeded);
    }

    [Fact]
    public void ReadInstanceStatus_SteeltoeV4FullRegistryInstance_NoOverriddenStatusField()
    {
        EurekaInstanceStatus i = EurekaResponseReader.ReadInstanceStatus(FirstInstanceOf("steeltoe-v4_GET-apps_full-registry_response.json")).Value!;

        Assert.Equal(new EurekaInstanceStatus(EurekaStatus.Up, EurekaStatus.Unknown), i);
    }

    [Fact]
    public void ReadInstanceStatus_SteeltoeV4DeltaInstance()
    {
        EurekaInstanceStatus i = EurekaResponseReader.ReadInstanceStatus(FirstInstanceOf("steeltoe-v4_GET-apps-delta_response.json")).Value!;

        Assert.Equal(new EurekaInstanceStatus(EurekaStatus.Up, EurekaStatus.Unknown), i);
    }

    [Fact]
    public void ReadInstanceStatus_LegacyXStreamJsonInstance_ReadsLowercaseOverriddenStatus()
    {
        EurekaInstanceStatus i = EurekaResponseReader.ReadInstanceStatus(
            FirstInstanceOf("hudl-fargo_GET-apps_legacy-xstream-json_single-instance-as-object.json")).Value!;

        Assert.Equal(new EurekaInstanceStatus(EurekaStatus.Up, EurekaStatus.Up), i);
    }

    [Fact]
    public void ReadInstanceStatus_SteeltoeV3_ExplicitNulls()
    {
        EurekaInstanceStatus i = EurekaResponseReader.ReadInstanceStatus(Fixture("steeltoe-v3_GET-instances-ID_response.json")).Value!;

        Assert.Equal(new EurekaInstanceStatus(EurekaStatus.Up, EurekaStatus.Unknown), i);
    }

    [Fact]
    public void ReadInstanceStatus_SteeltoeRegisterBody_HasNoStatus_ReadsAsUnknown()
    {
        EurekaInstanceStatus i = EurekaResponseReader.ReadInstanceStatus(Fixture("steeltoe-v4_POST-apps-APP_register_request-body.json")).Value!;

        Assert.Equal(new EurekaInstanceStatus(EurekaStatus.Unknown, EurekaStatus.Unknown), i);
    }

    [Fact]
    public void ReadInstanceStatus_XmlFixture_IsRecognisedAsXmlAndSkipped()
    {
        EurekaReadResult<EurekaInstanceStatus> result = EurekaResponseReader.ReadInstanceStatus(Fixture("netflix-karyon_GET-apps_response_AmazonInfo.xml"));

        Assert.False(result.Succeeded);
        Assert.Equal(EurekaReadError.Xml, result.Error);
        Assert.Contains("XML", result.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", nameof(EurekaReadError.Empty))]
    [InlineData("  \n", nameof(EurekaReadError.Empty))]
    [InlineData("{\"instance\": {\"app\": ", nameof(EurekaReadError.MalformedJson))]
    [InlineData("not json", nameof(EurekaReadError.MalformedJson))]
    [InlineData("[]", nameof(EurekaReadError.UnexpectedShape))]
    [InlineData("null", nameof(EurekaReadError.UnexpectedShape))]
    [InlineData("{\"error\":\"boom\"}", nameof(EurekaReadError.UnexpectedShape))]
    [InlineData("{\"instance\": 5}", nameof(EurekaReadError.UnexpectedShape))]
    public void ReadInstanceStatus_BadBodies_ReportWhatIsWrong_NeverThrow(string body, string expected)
    {
        EurekaReadResult<EurekaInstanceStatus> result = EurekaResponseReader.ReadInstanceStatus(Encoding.UTF8.GetBytes(body));

        Assert.Equal(expected, result.Error.ToString());
        Assert.NotNull(result.Detail);
    }

    [Fact]
    public void ReadInstanceStatus_OddButValidValues_AreTolerated()
    {
        const string body = """
            {"instance":{"instanceId":"a","hostName":"h","app":"X","status":"up","overriddenStatus":"OUT_OF_SERVICE",
             "port":"8080","securePort":{"$":"8443","@enabled":true},"metadata":{"n":5,"b":true,"o":{"x":1}},
             "leaseInfo":{"renewalIntervalInSecs":"10","durationInSecs":null},"lastDirtyTimestamp":"not-a-number"}}
            """;

        EurekaInstanceStatus i = EurekaResponseReader.ReadInstanceStatus(Encoding.UTF8.GetBytes("\uFEFF" + body)).Value!;

        Assert.Equal(new EurekaInstanceStatus(EurekaStatus.Up, EurekaStatus.OutOfService), i);
    }

    [Fact]
    public void ReadInstanceStatus_BareInstanceObject_IsRead()
    {
        const string body = """{"instanceId":"1","app":"FOO","status":"STARTING","overriddenstatus":null}""";

        EurekaInstanceStatus i = EurekaResponseReader.ReadInstanceStatus(Encoding.UTF8.GetBytes(body)).Value!;

        Assert.Equal(new EurekaInstanceStatus(EurekaStatus.Starting, EurekaStatus.Unknown), i);
    }

    [Theory]
    [InlineData("""{"application":{"name":"ORDERS","instance":[{"instanceId":"x","app":"ORDERS","status":"UP"},{"instanceId":"me","app":"ORDERS","status":"OUT_OF_SERVICE"}]}}""", "OUT_OF_SERVICE")]
    [InlineData("""{"application":{"name":"ORDERS","instance":{"instanceId":"me","app":"ORDERS","status":"down"}}}""", "DOWN")]
    [InlineData(""" {"application":{"name":"ORDERS","instance":[{"instanceId":"me","hostName":"pod-1","status":"UP"}]}}""", "UP")]
    [InlineData("""{"application":{"name":"ORDERS","instance":[{"instanceId":"x","app":"ORDERS","status":"UP"}]}}""", null)]
    [InlineData("""{"application":{"name":"ORDERS","instance":[]}}""", null)]
    [InlineData("""{"application":{"name":"ORDERS"}}""", null)]
    public void ReadListing_FindsTheInstanceById_OrSaysItIsNotListed(string json, string? expected)
    {
        EurekaReadResult<EurekaListing> read = EurekaResponseReader.ReadListing(Encoding.UTF8.GetBytes(json), "me");

        Assert.True(read.Succeeded, read.Detail);
        Assert.Equal(expected, read.Value!.Status?.ToWire());
    }

    [Theory]
    [InlineData("", "Empty")]
    [InlineData("<application><name>ORDERS</name></application>", "Xml")]
    [InlineData("{\"application\":", "MalformedJson")]
    [InlineData("{\"instance\":{\"instanceId\":\"me\"}}", "UnexpectedShape")]
    public void ReadListing_NotAnApplication_SaysWhy(string body, string expected)
    {
        EurekaReadResult<EurekaListing> read = EurekaResponseReader.ReadListing(Encoding.UTF8.GetBytes(body), "me");

        Assert.Equal(expected, read.Error.ToString());
        Assert.NotNull(read.Detail);
    }
}
