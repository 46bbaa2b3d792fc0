using System.Text;
using GracefulShutdown.Eureka.Internal;

namespace GracefulShutdown.Eureka.Tests.Internal;

/// <summary>
/// Reads every payload in Fixtures/ (copied from /work/shared/eureka-fixtures; provenance in Fixtures/SOURCES.md).
/// The XML fixture is out of scope for this JSON client: it must be recognised as XML and skipped, never mis-parsed or thrown on.
/// </summary>
public class EurekaResponseReaderTests
{
    private static byte[] Fixture(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", name));

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
        byte[] body = Fixture(name);
        if (name.EndsWith(".xml", StringComparison.Ordinal))
        {
            Assert.Equal(EurekaReadError.Xml, EurekaResponseReader.ReadApplications(body).Error);
            Assert.Equal(EurekaReadError.Xml, EurekaResponseReader.ReadInstance(body).Error);
            return;
        }

        bool registry = name.Contains("GET-apps", StringComparison.Ordinal);
        Assert.True(registry ? EurekaResponseReader.ReadApplications(body).Succeeded : EurekaResponseReader.ReadInstance(body).Succeeded, name);
    }

    [Fact]
    public void ReadApplications_SteeltoeV4FullRegistry_ReadsEveryField()
    {
        EurekaApplications apps = EurekaResponseReader.ReadApplications(Fixture("steeltoe-v4_GET-apps_full-registry_response.json")).Value!;

        Assert.Equal("1", apps.VersionsDelta);
        Assert.Equal("UP_1_", apps.AppsHashCode);
        EurekaApplication app = Assert.Single(apps.Applications);
        Assert.Equal("FOO", app.Name);
        EurekaInstance i = Assert.Single(app.Instances);
        Assert.Equal("localhost:foo", i.InstanceId);
        Assert.Equal("localhost:foo", i.Id);
        Assert.Equal("localhost", i.HostName);
        Assert.Equal("FOO", i.App);
        Assert.Equal("192.168.56.1", i.IpAddr);
        Assert.Equal(EurekaStatus.Up, i.Status);
        Assert.Equal(EurekaStatus.Unknown, i.OverriddenStatus);
        Assert.Equal((8080, true), (i.Port, i.PortEnabled));
        Assert.Equal((443, false), (i.SecurePort, i.SecurePortEnabled));
        Assert.Equal("MyOwn", i.DataCenterName);
        Assert.Equal(new EurekaLease(30, 90, 1457714988223, 1457716158319, 0, 1457714988223), i.Lease);
        Assert.Empty(i.Metadata);
        Assert.Equal("http://localhost:8080/", i.HomePageUrl);
        Assert.Equal("http://localhost:8080/info", i.StatusPageUrl);
        Assert.Equal("http://localhost:8080/health", i.HealthCheckUrl);
        Assert.Equal("foo", i.VipAddress);
        Assert.False(i.IsCoordinatingDiscoveryServer);
        Assert.Equal(1457714988223, i.LastUpdatedTimestamp);
        Assert.Equal(1457714988172, i.LastDirtyTimestamp);
        Assert.Equal("ADDED", i.ActionType);
    }

    [Fact]
    public void ReadApplications_SteeltoeV4Delta_ReadsLowercaseOverriddenStatus()
    {
        EurekaApplications apps = EurekaResponseReader.ReadApplications(Fixture("steeltoe-v4_GET-apps-delta_response.json")).Value!;

        Assert.Equal("3", apps.VersionsDelta);
        EurekaInstance i = Assert.Single(Assert.Single(apps.Applications).Instances);
        Assert.Equal(EurekaStatus.Unknown, i.OverriddenStatus);
        Assert.Equal("MODIFIED", i.ActionType);
        Assert.Equal(1457716158319, i.Lease!.LastRenewalTimestamp);
    }

    [Fact]
    public void ReadApplications_LegacyXStreamJson_SingleInstanceObject_NumbersAndBooleans()
    {
        EurekaApplications apps = EurekaResponseReader.ReadApplications(
            Fixture("hudl-fargo_GET-apps_legacy-xstream-json_single-instance-as-object.json")).Value!;

        Assert.Equal("UP_24_", apps.AppsHashCode);
        EurekaApplication app = Assert.Single(apps.Applications);
        Assert.Equal("TESTENG.METRICSD", app.Name);
        EurekaInstance i = Assert.Single(app.Instances);
        Assert.Null(i.InstanceId);
        Assert.Equal("192.168.40.94:7101", i.Id);
        Assert.Equal(EurekaStatus.Up, i.OverriddenStatus);
        Assert.Equal((7101, true), (i.Port, i.PortEnabled));
        Assert.Equal((7101, true), (i.SecurePort, i.SecurePortEnabled));
        Assert.Equal(3, i.Metadata.Count);
        Assert.Equal("https://192.168.40.94:7101", i.Metadata["base-uri"]);
        Assert.Equal(1402552694257, i.Lease!.LastRenewalTimestamp);
        Assert.Equal(1402450388774, i.LastDirtyTimestamp);
        Assert.False(i.IsCoordinatingDiscoveryServer);
        Assert.Equal("[]", i.VipAddress);
    }

    [Fact]
    public void ReadInstance_SteeltoeV3_BooleanEnabled_ExplicitNulls_NestedNullMetadata()
    {
        EurekaInstance i = EurekaResponseReader.ReadInstance(Fixture("steeltoe-v3_GET-instances-ID_response.json")).Value!;

        Assert.Equal("DESKTOP-GNQ5SUT", i.InstanceId);
        Assert.Equal("FOOBAR", i.App);
        Assert.Equal(EurekaStatus.Up, i.Status);
        Assert.Equal(EurekaStatus.Unknown, i.OverriddenStatus);
        Assert.Equal((80, true), (i.Port, i.PortEnabled));
        Assert.Equal((443, false), (i.SecurePort, i.SecurePortEnabled));
        Assert.Equal("DESKTOP-GNQ5SUT:443", i.SecureVipAddress);
        Assert.Empty(i.Metadata);
        Assert.Equal(1458116137663, i.LastUpdatedTimestamp);
        Assert.Equal(0, i.Lease!.LastRenewalTimestamp);
    }

    [Fact]
    public void ReadInstance_SteeltoeRegisterBody_HasNoStatus_ReadsAsUnknown()
    {
        EurekaInstance i = EurekaResponseReader.ReadInstance(Fixture("steeltoe-v4_POST-apps-APP_register_request-body.json")).Value!;

        Assert.Equal("some", i.InstanceId);
        Assert.Equal(EurekaStatus.Unknown, i.Status);
        Assert.Equal((9090, false), (i.SecurePort, i.SecurePortEnabled));
        Assert.Equal(1708427732823, i.LastDirtyTimestamp);
        Assert.Null(i.Lease);
    }

    [Fact]
    public void ReadApplications_XmlFixture_IsRecognisedAsXmlAndSkipped()
    {
        EurekaReadResult<EurekaApplications> result = EurekaResponseReader.ReadApplications(Fixture("netflix-karyon_GET-apps_response_AmazonInfo.xml"));

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
    public void ReadInstance_BadBodies_ReportWhatIsWrong_NeverThrow(string body, string expected)
    {
        EurekaReadResult<EurekaInstance> result = EurekaResponseReader.ReadInstance(Encoding.UTF8.GetBytes(body));

        Assert.Equal(expected, result.Error.ToString());
        Assert.NotNull(result.Detail);
    }

    [Fact]
    public void ReadInstance_OddButValidValues_AreTolerated()
    {
        const string body = """
            {"instance":{"instanceId":"a","hostName":"h","app":"X","status":"up","overriddenStatus":"OUT_OF_SERVICE",
             "port":"8080","securePort":{"$":"8443","@enabled":true},"metadata":{"n":5,"b":true,"o":{"x":1}},
             "leaseInfo":{"renewalIntervalInSecs":"10","durationInSecs":null},"lastDirtyTimestamp":"not-a-number"}}
            """;

        EurekaInstance i = EurekaResponseReader.ReadInstance(Encoding.UTF8.GetBytes(body)).Value!;

        Assert.Equal(EurekaStatus.Up, i.Status);
        Assert.Equal(EurekaStatus.OutOfService, i.OverriddenStatus);
        Assert.Equal((8080, true), (i.Port, i.PortEnabled));
        Assert.Equal((8443, true), (i.SecurePort, i.SecurePortEnabled));
        Assert.Equal(new Dictionary<string, string> { ["n"] = "5", ["b"] = "true" }, i.Metadata);
        Assert.Equal(10, i.Lease!.RenewalIntervalInSecs);
        Assert.Equal(90, i.Lease.DurationInSecs);
        Assert.Null(i.LastDirtyTimestamp);
    }

    [Fact]
    public void ReadApplication_OneApplication_InstanceArray()
    {
        const string body = """{"application":{"name":"FOO","instance":[{"instanceId":"1","app":"FOO"},{"instanceId":"2","app":"FOO"}]}}""";

        EurekaApplication app = EurekaResponseReader.ReadApplication(Encoding.UTF8.GetBytes(body)).Value!;

        Assert.Equal(["1", "2"], app.Instances.Select(i => i.InstanceId));
    }
}
