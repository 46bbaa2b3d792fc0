using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace GracefulShutdown.Eureka.Testing.Tests;

public sealed class ContractTests
{
    [Theory]
    [InlineData("")]
    [InlineData("v2/")]
    public async Task Register_ValidBody_Returns204AndIsReadable(string prefix)
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);

        using HttpResponseMessage response = await http.RegisterAsync("myapp", EurekaHttp.Instance("MYAPP", "host-a:1"), prefix);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        JsonElement instance = (await http.GetJsonBodyAsync($"{prefix}apps/MYAPP/host-a:1")).GetProperty("instance");
        Assert.Equal("UP", instance.GetProperty("status").GetString());
        Assert.Equal("MYAPP", instance.GetProperty("app").GetString());
        Assert.Equal("ADDED", instance.GetProperty("actionType").GetString());
        EurekaInstanceSnapshot? snapshot = eureka.GetInstance("myapp", "host-a:1");
        Assert.NotNull(snapshot);
        Assert.Equal(8080, snapshot.Port);
    }

    public static TheoryData<string, string> InvalidRegistrations() => new()
    {
        { """{"instanceId":null,"hostName":null}""", "Missing instanceId" },
        { """{"hostName":""}""", "Missing hostname" },
        { """{"ipAddr":null}""", "Missing ip address" },
        { """{"app":null}""", "Missing appName" },
        { """{"app":"OTHER"}""", "Mismatched appName, expecting MYAPP but was OTHER" },
        { """{"dataCenterInfo":null}""", "Missing dataCenterInfo" },
        { """{"dataCenterInfo":{"@class":"com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo"}}""", "Missing dataCenterInfo Name" },
    };

    [Theory]
    [MemberData(nameof(InvalidRegistrations))]
    public async Task Register_MissingOrMismatchedField_Returns400WithJavaMessage(string patch, string expectedMessage)
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        JsonObject instance = EurekaHttp.Instance("MYAPP", "id-1");
        foreach ((string key, JsonNode? value) in JsonNode.Parse(patch)!.AsObject())
        {
            if (value is null)
            {
                instance.Remove(key);
            }
            else
            {
                instance[key] = value.DeepClone();
            }
        }

        using HttpResponseMessage response = await http.RegisterAsync("myapp", instance);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(expectedMessage, await response.Content.ReadAsStringAsync());
        Assert.Empty(eureka.GetInstances());
    }

    [Fact]
    public async Task Register_WithoutInstanceId_UsesHostNameAsId()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        JsonObject instance = EurekaHttp.Instance("MYAPP", "unused", hostName: "box-7");
        instance.Remove("instanceId");

        using HttpResponseMessage response = await http.RegisterAsync("MYAPP", instance);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.NotNull(eureka.GetInstance("MYAPP", "box-7"));
        JsonElement written = (await http.GetJsonBodyAsync("instances/box-7")).GetProperty("instance");
        Assert.False(written.TryGetProperty("instanceId", out _)); // Include.NON_NULL
    }

    [Fact]
    public async Task Register_UnsupportedContentType_Returns415()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        string body = new JsonObject { ["instance"] = EurekaHttp.Instance("A", "a") }.ToJsonString();

        using HttpResponseMessage response = await http.SendAsync(HttpMethod.Post, "apps/A", body, "text/plain");

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Fact]
    public async Task Register_MalformedJson_Returns400()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);

        using HttpResponseMessage response = await http.SendAsync(HttpMethod.Post, "apps/A", "{\"instance\":", "application/json");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Register_XmlBody_Returns204()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        const string Xml = """
            <instance>
              <instanceId>x-1</instanceId><hostName>h</hostName><app>xmlapp</app><ipAddr>10.1.1.1</ipAddr>
              <status>STARTING</status><overriddenstatus>UNKNOWN</overriddenstatus>
              <port enabled="true">9000</port><securePort enabled="true">9443</securePort>
              <dataCenterInfo class="com.netflix.appinfo.InstanceInfo$MyDataCenterInfo"><name>MyOwn</name></dataCenterInfo>
              <leaseInfo><renewalIntervalInSecs>5</renewalIntervalInSecs><durationInSecs>15</durationInSecs></leaseInfo>
              <metadata><zone>a</zone></metadata>
              <lastDirtyTimestamp>42</lastDirtyTimestamp>
            </instance>
            """;

        using HttpResponseMessage response = await http.SendAsync(HttpMethod.Post, "apps/XMLAPP", Xml, "application/xml");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        EurekaInstanceSnapshot snapshot = Assert.IsType<EurekaInstanceSnapshot>(eureka.GetInstance("XMLAPP", "x-1"));
        Assert.Equal("STARTING", snapshot.Status);
        Assert.Equal(9443, snapshot.SecurePort);
        Assert.True(snapshot.SecurePortEnabled);
        Assert.Equal("a", snapshot.Metadata["zone"]);
        Assert.Equal(42, snapshot.LastDirtyTimestamp);
    }

    [Fact]
    public async Task Heartbeat_RegisteredInstance_Returns200WithEmptyBody()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1"))).Dispose();

        using HttpResponseMessage response = await http.SendAsync(HttpMethod.Put, "apps/a/a-1?status=UP&lastDirtyTimestamp=1000");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(string.Empty, await response.Content.ReadAsStringAsync());
        Assert.Equal(1, eureka.GetInstance("A", "a-1")!.RenewalCount);
    }

    [Fact]
    public async Task Heartbeat_NoLease_Returns404()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);

        Assert.Equal(404, await http.StatusAsync(HttpMethod.Put, "apps/A/nobody?status=UP&lastDirtyTimestamp=1"));
    }

    [Theory]
    [InlineData(2_000, 404)] // client newer than server: re-register required
    [InlineData(1_000, 200)] // equal
    [InlineData(500, 200)] // server newer, not a replica: fine
    public async Task Heartbeat_LastDirtyTimestamp_ComparedWithServer(long clientDirty, int expected)
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1", lastDirtyTimestamp: 1_000))).Dispose();

        Assert.Equal(expected, await http.StatusAsync(HttpMethod.Put, $"apps/A/a-1?status=UP&lastDirtyTimestamp={clientDirty}"));
    }

    [Fact]
    public async Task Heartbeat_ReplicationWithOlderTimestamp_Returns409WithServerInstance()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1", lastDirtyTimestamp: 1_000))).Dispose();
        var request = new HttpRequestMessage(HttpMethod.Put, "apps/A/a-1?lastDirtyTimestamp=10");
        request.Headers.Add("x-netflix-discovery-replication", "true");
        request.Headers.Accept.ParseAdd("application/json");

        using HttpResponseMessage response = await http.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("\"instance\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Heartbeat_StatusQueryParameter_IsIgnored()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1"))).Dispose();

        Assert.Equal(200, await http.StatusAsync(HttpMethod.Put, "apps/A/a-1?status=DOWN"));
        Assert.Equal("UP", eureka.GetInstance("A", "a-1")!.Status);
    }

    [Fact]
    public async Task Cancel_RegisteredThenAgain_Returns200Then404()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1"))).Dispose();

        Assert.Equal(200, await http.StatusAsync(HttpMethod.Delete, "apps/A/a-1"));
        Assert.Equal(404, await http.StatusAsync(HttpMethod.Delete, "apps/A/a-1"));
        Assert.Equal(404, await http.StatusAsync(HttpMethod.Put, "apps/A/a-1"));
        Assert.Equal(404, await http.StatusAsync(HttpMethod.Get, "apps/A/a-1"));
        Assert.Equal(404, await http.StatusAsync(HttpMethod.Get, "apps/A"));
        Assert.Null(eureka.GetInstance("A", "a-1"));
    }

    [Fact]
    public async Task StatusOverride_Registered_Returns200AndSetsStatus()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1"))).Dispose();

        Assert.Equal(200, await http.StatusAsync(HttpMethod.Put, "apps/A/a-1/status?value=OUT_OF_SERVICE&lastDirtyTimestamp=1000"));

        EurekaInstanceSnapshot snapshot = eureka.GetInstance("A", "a-1")!;
        Assert.Equal("OUT_OF_SERVICE", snapshot.Status);
        Assert.Equal("OUT_OF_SERVICE", snapshot.OverriddenStatus);
        Assert.Equal("OUT_OF_SERVICE", snapshot.StatusOverride);
        Assert.Equal("MODIFIED", snapshot.ActionType);
    }

    [Theory]
    [InlineData("apps/A/a-1/status?value=SLEEPING", 500)] // InstanceStatus.valueOf throws
    [InlineData("apps/A/a-1/status?value=out_of_service", 500)] // valueOf is case-sensitive
    [InlineData("apps/A/a-1/status", 500)] // valueOf(null)
    [InlineData("apps/A/a-1/status?value=UP&lastDirtyTimestamp=abc", 500)]
    [InlineData("apps/A/nobody/status?value=OUT_OF_SERVICE", 404)]
    [InlineData("apps/B/a-1/status?value=OUT_OF_SERVICE", 404)]
    public async Task StatusOverride_BadRequestOrUnknown_ReturnsJavaCode(string relative, int expected)
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1"))).Dispose();

        Assert.Equal(expected, await http.StatusAsync(HttpMethod.Put, relative));
        Assert.Null(eureka.GetInstance("A", "a-1")!.StatusOverride);
    }

    [Fact]
    public async Task DeleteStatusOverride_WithoutValue_StatusUnknownAndNextHeartbeat404()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1"))).Dispose();
        Assert.Equal(200, await http.StatusAsync(HttpMethod.Put, "apps/A/a-1/status?value=OUT_OF_SERVICE"));

        Assert.Equal(200, await http.StatusAsync(HttpMethod.Delete, "apps/A/a-1/status?lastDirtyTimestamp=1000"));

        EurekaInstanceSnapshot snapshot = eureka.GetInstance("A", "a-1")!;
        Assert.Equal("UNKNOWN", snapshot.Status);
        Assert.Equal("UNKNOWN", snapshot.OverriddenStatus);
        Assert.Null(snapshot.StatusOverride);
        Assert.Equal(404, await http.StatusAsync(HttpMethod.Put, "apps/A/a-1?status=UP&lastDirtyTimestamp=1000"));
    }

    [Fact]
    public async Task DeleteStatusOverride_WithValueUp_StatusUpAndHeartbeat200()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1"))).Dispose();
        Assert.Equal(200, await http.StatusAsync(HttpMethod.Put, "apps/A/a-1/status?value=OUT_OF_SERVICE"));

        Assert.Equal(200, await http.StatusAsync(HttpMethod.Delete, "apps/A/a-1/status?value=UP"));

        Assert.Equal("UP", eureka.GetInstance("A", "a-1")!.Status);
        Assert.Equal(200, await http.StatusAsync(HttpMethod.Put, "apps/A/a-1"));
    }

    [Theory]
    [InlineData("apps/A/nobody/status", 404)]
    [InlineData("apps/A/a-1/status?value=NOPE", 500)]
    public async Task DeleteStatusOverride_UnknownOrInvalid_ReturnsJavaCode(string relative, int expected)
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1"))).Dispose();

        Assert.Equal(expected, await http.StatusAsync(HttpMethod.Delete, relative));
    }

    [Fact]
    public async Task MetadataUpdate_Registered_Returns200AndMerges()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1"))).Dispose();

        Assert.Equal(200, await http.StatusAsync(HttpMethod.Put, "apps/A/a-1/metadata?zone=z1&draining=true"));
        Assert.Equal(200, await http.StatusAsync(HttpMethod.Put, "apps/A/a-1/metadata?draining=false"));

        EurekaInstanceSnapshot snapshot = eureka.GetInstance("A", "a-1")!;
        Assert.Equal("z1", snapshot.Metadata["zone"]);
        Assert.Equal("false", snapshot.Metadata["draining"]);
        Assert.Equal("UP", snapshot.Status);
        JsonElement metadata = (await http.GetJsonBodyAsync("apps/A/a-1")).GetProperty("instance").GetProperty("metadata");
        Assert.False(metadata.TryGetProperty("@class", out _));
        Assert.Equal("z1", metadata.GetProperty("zone").GetString());
    }

    [Fact]
    public async Task MetadataUpdate_NoLease_Returns404()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);

        Assert.Equal(404, await http.StatusAsync(HttpMethod.Put, "apps/A/a-1/metadata?x=y"));
    }

    [Theory]
    [InlineData("apps")]
    [InlineData("apps/")]
    [InlineData("v2/apps")]
    [InlineData("apps/A")]
    [InlineData("v2/apps/a")]
    [InlineData("apps/A/a-1")]
    [InlineData("v2/apps/A/a-1")]
    [InlineData("instances/a-1")]
    [InlineData("v2/instances/a-1")]
    [InlineData("vips/a-vip")]
    [InlineData("v2/vips/a-vip")]
    [InlineData("svips/a-svip")]
    [InlineData("apps/delta")]
    [InlineData("v2/apps/delta")]
    public async Task Get_KnownResource_BothPrefixes_Return200(string relative)
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        JsonObject instance = EurekaHttp.Instance("A", "a-1", vipAddress: "a-vip,other-vip");
        instance["secureVipAddress"] = "a-svip";
        (await http.RegisterAsync("A", instance)).Dispose();

        using HttpResponseMessage response = await http.GetJsonAsync(relative);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("/eureka/apps/NOPE")]
    [InlineData("/eureka/instances/nobody")]
    [InlineData("/eureka/vips/nowhere")]
    [InlineData("/eureka/svips/a-vip")]
    [InlineData("/eureka/vips/a")] // exact VIP match, not a prefix
    [InlineData("/eureka")]
    [InlineData("/eureka/")]
    [InlineData("/eureka/unknown")]
    [InlineData("/eureka/v2/unknown/x")]
    [InlineData("/eureka/apps/A/a-1/other")]
    [InlineData("/eureka/apps/A/a-1/status/x")]
    [InlineData("/apps")]
    [InlineData("/")]
    [InlineData("/v2/apps")]
    public async Task Get_UnknownPathOrEntity_Returns404(string path)
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1", vipAddress: "a-vip"))).Dispose();

        Assert.Equal(404, await http.StatusAsync(HttpMethod.Get, new Uri(eureka.BaseUri, path).ToString()));
    }

    [Fact]
    public async Task Apps_AfterLastInstanceCancelled_OmitsEmptyApplication()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1"))).Dispose();
        Assert.Equal(200, await http.StatusAsync(HttpMethod.Delete, "apps/A/a-1"));

        JsonElement apps = (await http.GetJsonBodyAsync("apps")).GetProperty("applications");

        Assert.Equal(0, apps.GetProperty("application").GetArrayLength());
        Assert.Equal(string.Empty, apps.GetProperty("apps__hashcode").GetString());
    }

    [Fact]
    public async Task Apps_HashCode_IsSortedStatusCounts()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        (await http.RegisterAsync("B", EurekaHttp.Instance("B", "b-1"))).Dispose();
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1", status: "DOWN"))).Dispose();
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-2"))).Dispose();
        (await http.RegisterAsync("C", EurekaHttp.Instance("C", "c-1", status: "STARTING"))).Dispose();

        JsonElement apps = (await http.GetJsonBodyAsync("apps")).GetProperty("applications");

        Assert.Equal("DOWN_1_STARTING_1_UP_2_", apps.GetProperty("apps__hashcode").GetString());
        Assert.Equal("1", apps.GetProperty("versions__delta").GetString());
        Assert.Equal(3, apps.GetProperty("application").GetArrayLength());
    }

    [Fact]
    public async Task Delta_ReflectsChangesAndCountsVersions()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1"))).Dispose();
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-2"))).Dispose();

        JsonElement first = (await http.GetJsonBodyAsync("apps/delta")).GetProperty("applications");
        Assert.Equal(200, await http.StatusAsync(HttpMethod.Delete, "apps/A/a-1"));
        Assert.Equal(200, await http.StatusAsync(HttpMethod.Put, "apps/A/a-2/status?value=OUT_OF_SERVICE"));
        JsonElement second = (await http.GetJsonBodyAsync("apps/delta")).GetProperty("applications");

        Assert.Equal("1", first.GetProperty("versions__delta").GetString());
        Assert.Equal("2", second.GetProperty("versions__delta").GetString());
        Assert.Equal("UP_2_", first.GetProperty("apps__hashcode").GetString());

        // The delta hash covers the whole registry (only a-2, now OUT_OF_SERVICE), not just the changed items.
        Assert.Equal("OUT_OF_SERVICE_1_", second.GetProperty("apps__hashcode").GetString());
        Dictionary<string, string> actions = second.GetProperty("application")[0].GetProperty("instance").EnumerateArray()
            .ToDictionary(i => i.GetProperty("instanceId").GetString()!, i => i.GetProperty("actionType").GetString()!);
        Assert.Equal("DELETED", actions["a-1"]);
        Assert.Equal("MODIFIED", actions["a-2"]);
    }

    [Theory]
    [InlineData(null, "applications")]
    [InlineData("application/xml", "applications")]
    [InlineData("*/*", "applications")]
    [InlineData("application/json", null)]
    [InlineData("application/vnd.foo+json", null)]
    public async Task Apps_AcceptHeader_SelectsJsonOnlyWhenItContainsJson(string? accept, string? xmlRoot)
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1"))).Dispose();

        using HttpResponseMessage response = await http.SendAsync(HttpMethod.Get, "apps", accept: accept);
        string body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        if (xmlRoot is null)
        {
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            Assert.True(JsonDocument.Parse(body).RootElement.TryGetProperty("applications", out _));
        }
        else
        {
            Assert.Equal("application/xml", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(xmlRoot, System.Xml.Linq.XElement.Parse(body).Name.LocalName);
        }
    }

    [Theory]
    [InlineData("apps/A/a-1", "instance")]
    [InlineData("apps/A", "application")]
    [InlineData("instances/a-1", "instance")]
    [InlineData("vips/a-vip", "applications")]
    public async Task Get_WithoutJsonAccept_ReturnsXmlRoot(string relative, string root)
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1", vipAddress: "a-vip"))).Dispose();

        using HttpResponseMessage response = await http.SendAsync(HttpMethod.Get, relative, accept: "application/xml");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(root, System.Xml.Linq.XElement.Parse(await response.Content.ReadAsStringAsync()).Name.LocalName);
    }

    [Fact]
    public async Task Apps_AcceptEncodingGzip_ReturnsGzipBody()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri, decompress: false);
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1"))).Dispose();
        var request = new HttpRequestMessage(HttpMethod.Get, "apps");
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.AcceptEncoding.ParseAdd("gzip");

        using HttpResponseMessage response = await http.Client.SendAsync(request);
        await using var gzip = new System.IO.Compression.GZipStream(await response.Content.ReadAsStreamAsync(), System.IO.Compression.CompressionMode.Decompress);
        using var reader = new StreamReader(gzip);

        Assert.Equal("gzip", Assert.Single(response.Content.Headers.ContentEncoding));
        Assert.StartsWith("{\"applications\":", await reader.ReadToEndAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("DELETE", "apps")]
    [InlineData("PUT", "apps/A")]
    [InlineData("POST", "apps/A/a-1")]
    [InlineData("GET", "apps/A/a-1/status")]
    [InlineData("POST", "instances/a-1")]
    public async Task WrongMethodOnKnownResource_Returns405(string method, string relative)
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);

        Assert.Equal(405, await http.StatusAsync(new HttpMethod(method), relative));
    }
}
