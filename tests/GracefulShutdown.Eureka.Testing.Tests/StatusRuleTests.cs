using System.Net;

namespace GracefulShutdown.Eureka.Testing.Tests;

/// <summary>tests/Fixtures/eureka/CONTRACT.md section 3: DownOrStartingRule, OverrideExistsRule, LeaseExistsRule.</summary>
public sealed class StatusRuleTests
{
    [Fact]
    public async Task ReRegister_OutOfServiceWhileUp_IsIgnored()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1", lastDirtyTimestamp: 1_000))).Dispose();

        using HttpResponseMessage response = await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1", status: "OUT_OF_SERVICE", lastDirtyTimestamp: 2_000));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("UP", eureka.GetInstance("A", "a-1")!.Status);
    }

    [Theory]
    [InlineData("DOWN")]
    [InlineData("STARTING")]
    public async Task ReRegister_DownOrStartingWhileUp_IsTrusted(string status)
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1", lastDirtyTimestamp: 1_000))).Dispose();

        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1", status: status, lastDirtyTimestamp: 2_000))).Dispose();

        Assert.Equal(status, eureka.GetInstance("A", "a-1")!.Status);
    }

    [Fact]
    public async Task ReRegister_OutOfServiceByReplica_SkipsLeaseExistsRule()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1", lastDirtyTimestamp: 1_000))).Dispose();
        var request = new HttpRequestMessage(HttpMethod.Post, "apps/A")
        {
            Content = new StringContent(
                new System.Text.Json.Nodes.JsonObject { ["instance"] = EurekaHttp.Instance("A", "a-1", status: "OUT_OF_SERVICE", lastDirtyTimestamp: 2_000) }.ToJsonString(),
                System.Text.Encoding.UTF8,
                "application/json"),
        };
        request.Headers.Add("x-netflix-discovery-replication", "true");

        using HttpResponseMessage response = await http.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("OUT_OF_SERVICE", eureka.GetInstance("A", "a-1")!.Status);
    }

    [Fact]
    public async Task FirstRegister_OutOfService_IsStored()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);

        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1", status: "OUT_OF_SERVICE"))).Dispose();

        Assert.Equal("OUT_OF_SERVICE", eureka.GetInstance("A", "a-1")!.Status);
    }

    [Fact]
    public async Task ReRegister_UpAfterDown_BecomesUp()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1", status: "DOWN", lastDirtyTimestamp: 1_000))).Dispose();

        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1", status: "UP", lastDirtyTimestamp: 2_000))).Dispose();

        Assert.Equal("UP", eureka.GetInstance("A", "a-1")!.Status);
    }

    [Fact]
    public async Task ReRegister_OlderDirtyTimestamp_KeepsServerCopy()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1", status: "DOWN", lastDirtyTimestamp: 2_000))).Dispose();

        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1", status: "UP", lastDirtyTimestamp: 1_000))).Dispose();

        EurekaInstanceSnapshot snapshot = eureka.GetInstance("A", "a-1")!;
        Assert.Equal("DOWN", snapshot.Status);
        Assert.Equal(2_000, snapshot.LastDirtyTimestamp);
    }

    [Fact]
    public async Task AdminOverride_IsStickyAcrossReRegisterAndHeartbeat()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1", lastDirtyTimestamp: 1_000))).Dispose();
        Assert.Equal(200, await http.StatusAsync(HttpMethod.Put, "apps/A/a-1/status?value=OUT_OF_SERVICE"));

        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1", status: "UP", lastDirtyTimestamp: 2_000))).Dispose();
        Assert.Equal(200, await http.StatusAsync(HttpMethod.Put, "apps/A/a-1?status=UP&lastDirtyTimestamp=2000"));

        EurekaInstanceSnapshot snapshot = eureka.GetInstance("A", "a-1")!;
        Assert.Equal("OUT_OF_SERVICE", snapshot.Status);
        Assert.Equal("OUT_OF_SERVICE", snapshot.OverriddenStatus);
    }

    [Fact]
    public async Task AdminOverride_DownStatusFromClient_StillTrusted()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1", lastDirtyTimestamp: 1_000))).Dispose();
        Assert.Equal(200, await http.StatusAsync(HttpMethod.Put, "apps/A/a-1/status?value=OUT_OF_SERVICE"));

        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1", status: "DOWN", lastDirtyTimestamp: 2_000))).Dispose();

        // DownOrStartingRule runs before OverrideExistsRule.
        Assert.Equal("DOWN", eureka.GetInstance("A", "a-1")!.Status);
        Assert.Equal("OUT_OF_SERVICE", eureka.GetInstance("A", "a-1")!.StatusOverride);
    }

    [Fact]
    public async Task DeleteOverride_ThenHeartbeat404_ThenReRegisterUp_IsUp()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1", lastDirtyTimestamp: 1_000))).Dispose();
        Assert.Equal(200, await http.StatusAsync(HttpMethod.Put, "apps/A/a-1/status?value=OUT_OF_SERVICE"));
        Assert.Equal(200, await http.StatusAsync(HttpMethod.Delete, "apps/A/a-1/status"));
        Assert.Equal(404, await http.StatusAsync(HttpMethod.Put, "apps/A/a-1?status=UP&lastDirtyTimestamp=1000"));

        // A Java client marks itself dirty on the 404, so its re-register carries a newer timestamp.
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1", lastDirtyTimestamp: 3_000))).Dispose();

        Assert.Equal("UP", eureka.GetInstance("A", "a-1")!.Status);
        Assert.Equal(200, await http.StatusAsync(HttpMethod.Put, "apps/A/a-1?status=UP&lastDirtyTimestamp=3000"));
    }

    [Fact]
    public async Task Cancel_ClearsOverride_ReRegisterUpIsUp()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1", lastDirtyTimestamp: 1_000))).Dispose();
        Assert.Equal(200, await http.StatusAsync(HttpMethod.Put, "apps/A/a-1/status?value=OUT_OF_SERVICE"));

        Assert.Equal(200, await http.StatusAsync(HttpMethod.Delete, "apps/A/a-1"));
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1", lastDirtyTimestamp: 1_000))).Dispose();

        EurekaInstanceSnapshot snapshot = eureka.GetInstance("A", "a-1")!;
        Assert.Equal("UP", snapshot.Status);
        Assert.Null(snapshot.StatusOverride);
        Assert.Equal("UNKNOWN", snapshot.OverriddenStatus);
    }

    [Theory]
    [InlineData("overriddenStatus")]
    [InlineData("overriddenstatus")]
    public async Task Register_BodyOverriddenStatus_CopiedWhenNoOverrideExists(string fieldName)
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        System.Text.Json.Nodes.JsonObject instance = EurekaHttp.Instance("A", "a-1");
        instance[fieldName] = "OUT_OF_SERVICE";

        (await http.RegisterAsync("A", instance)).Dispose();

        EurekaInstanceSnapshot snapshot = eureka.GetInstance("A", "a-1")!;
        Assert.Equal("OUT_OF_SERVICE", snapshot.StatusOverride);
        Assert.Equal("OUT_OF_SERVICE", snapshot.Status);
    }

    [Fact]
    public async Task Register_BodyOverriddenStatus_DoesNotReplaceExistingOverride()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1", lastDirtyTimestamp: 1_000))).Dispose();
        Assert.Equal(200, await http.StatusAsync(HttpMethod.Put, "apps/A/a-1/status?value=OUT_OF_SERVICE"));

        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1", lastDirtyTimestamp: 2_000, overriddenStatus: "UP"))).Dispose();

        EurekaInstanceSnapshot snapshot = eureka.GetInstance("A", "a-1")!;
        Assert.Equal("OUT_OF_SERVICE", snapshot.StatusOverride);
        Assert.Equal("OUT_OF_SERVICE", snapshot.OverriddenStatus);
        Assert.Equal("OUT_OF_SERVICE", snapshot.Status);
    }

    [Fact]
    public async Task StatusOverride_SameAsCurrent_IsNoOp()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1"))).Dispose();

        Assert.Equal(200, await http.StatusAsync(HttpMethod.Put, "apps/A/a-1/status?value=UP"));

        EurekaInstanceSnapshot snapshot = eureka.GetInstance("A", "a-1")!;
        Assert.Null(snapshot.StatusOverride);
        Assert.Equal("ADDED", snapshot.ActionType);
    }

    [Fact]
    public async Task MetadataUpdate_KeepsOverrideAndStatus()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1"))).Dispose();
        Assert.Equal(200, await http.StatusAsync(HttpMethod.Put, "apps/A/a-1/status?value=OUT_OF_SERVICE"));

        Assert.Equal(200, await http.StatusAsync(HttpMethod.Put, "apps/A/a-1/metadata?k=v"));

        Assert.Equal("OUT_OF_SERVICE", eureka.GetInstance("A", "a-1")!.Status);
    }
}
