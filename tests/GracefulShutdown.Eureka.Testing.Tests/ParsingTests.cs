using System.Net;
using System.Text.Json.Nodes;

namespace GracefulShutdown.Eureka.Testing.Tests;

/// <summary>Register bodies are read as leniently as the Java server reads them.</summary>
public sealed class ParsingTests
{
    [Fact]
    public async Task Register_SteeltoeV4RequestBody_Accepted()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);

        using HttpResponseMessage response = await http.SendAsync(
            HttpMethod.Post, "apps/FOOBAR", Fixture.Read("steeltoe-v4_POST-apps-APP_register_request-body.json"), "application/json");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        EurekaInstanceSnapshot snapshot = eureka.GetInstance("FOOBAR", "some")!;
        Assert.Equal("UP", snapshot.Status); // no status in the body: Java's default
        Assert.Equal(8080, snapshot.Port);
        Assert.True(snapshot.PortEnabled);
        Assert.Equal(9090, snapshot.SecurePort);
        Assert.False(snapshot.SecurePortEnabled);
        Assert.Equal(1708427732823, snapshot.LastDirtyTimestamp);
        Assert.Empty(snapshot.Metadata);
    }

    [Fact]
    public async Task Register_SteeltoeV3InstanceWithBooleansNumbersAndNulls_Accepted()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);

        using HttpResponseMessage response = await http.SendAsync(
            HttpMethod.Post, "apps/foobar", Fixture.Read("steeltoe-v3_GET-instances-ID_response.json"), "application/json; charset=utf-8");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        EurekaInstanceSnapshot snapshot = eureka.GetInstance("FOOBAR", "DESKTOP-GNQ5SUT")!;
        Assert.Equal(80, snapshot.Port);
        Assert.True(snapshot.PortEnabled); // "@enabled": true (boolean)
        Assert.False(snapshot.SecurePortEnabled);
        Assert.Equal(1458116137663, snapshot.LastDirtyTimestamp); // number, not string
        Assert.Null(snapshot.StatusOverride); // overriddenstatus UNKNOWN
        Assert.Empty(snapshot.Metadata); // "@class" and a null entry are skipped
    }

    [Fact]
    public async Task Register_LegacyFargoInstance_AcceptedWithLowercaseOverride()
    {
        JsonNode fixture = JsonNode.Parse(Fixture.Read("hudl-fargo_GET-apps_legacy-xstream-json_single-instance-as-object.json"))!;
        JsonObject instance = fixture["applications"]!["application"]![0]!["instance"]!.AsObject();
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);

        using HttpResponseMessage response = await http.RegisterAsync("testeng.metricsd", (JsonObject)instance.DeepClone());

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        EurekaInstanceSnapshot snapshot = eureka.GetInstance("TESTENG.METRICSD", "192.168.40.94:7101")!; // no instanceId: hostName
        Assert.Equal("UP", snapshot.StatusOverride); // "overriddenstatus": "UP" copied into the override map
        Assert.True(snapshot.SecurePortEnabled);
        Assert.Equal(7101, snapshot.SecurePort);
        Assert.Equal(3, snapshot.Metadata.Count);
    }

    [Theory]
    [InlineData("""{"$":"8081","@enabled":true}""", 8081, true)]
    [InlineData("""{"$":8081,"@enabled":"false"}""", 8081, false)]
    [InlineData("""{"@enabled":"TRUE","$":" 8081 "}""", 8081, true)]
    [InlineData("8081", 8081, true)]
    public async Task Register_PortVariants_Parsed(string portJson, int port, bool enabled)
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        JsonObject instance = EurekaHttp.Instance("A", "a-1");
        instance["port"] = JsonNode.Parse(portJson);

        using HttpResponseMessage response = await http.RegisterAsync("A", instance);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(port, eureka.GetInstance("A", "a-1")!.Port);
        Assert.Equal(enabled, eureka.GetInstance("A", "a-1")!.PortEnabled);
    }

    [Fact]
    public async Task Register_BadPortNumber_Returns400()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        JsonObject instance = EurekaHttp.Instance("A", "a-1");
        instance["port"] = JsonNode.Parse("""{"$":"eighty"}""");

        using HttpResponseMessage response = await http.RegisterAsync("A", instance);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
