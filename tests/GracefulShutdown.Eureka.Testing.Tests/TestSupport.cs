using System.Net;
using System.Net.Http.Headers;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace GracefulShutdown.Eureka.Testing.Tests;

/// <summary>A thin HTTP client for the stand-in plus register-body builders.</summary>
internal sealed class EurekaHttp : IDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly HttpClient _client;

    public EurekaHttp(Uri baseUri, bool decompress = true)
    {
        _client = new HttpClient(new SocketsHttpHandler
        {
            AutomaticDecompression = decompress ? DecompressionMethods.All : DecompressionMethods.None,
            PooledConnectionLifetime = TimeSpan.FromSeconds(1),
        })
        {
            BaseAddress = baseUri,
            Timeout = Timeout,
        };
    }

    public HttpClient Client => _client;

    public Task<HttpResponseMessage> RegisterAsync(string app, JsonObject instance, string prefix = "") =>
        SendAsync(HttpMethod.Post, $"{prefix}apps/{app}", new JsonObject { ["instance"] = instance }.ToJsonString(), "application/json");

    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string relative, string? body = null, string? contentType = null, string? accept = null)
    {
        var request = new HttpRequestMessage(method, relative);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = contentType is null ? null : MediaTypeHeaderValue.Parse(contentType);
        }

        if (accept is not null)
        {
            request.Headers.Accept.ParseAdd(accept);
        }

        return _client.SendAsync(request);
    }

    public Task<HttpResponseMessage> GetJsonAsync(string relative) => SendAsync(HttpMethod.Get, relative, accept: "application/json");

    public async Task<int> StatusAsync(HttpMethod method, string relative)
    {
        using HttpResponseMessage response = await SendAsync(method, relative);
        return (int)response.StatusCode;
    }

    public async Task<JsonElement> GetJsonBodyAsync(string relative)
    {
        using HttpResponseMessage response = await GetJsonAsync(relative);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    public void Dispose() => _client.Dispose();

    /// <summary>A register body as a Java client sends it (Steeltoe/Spring style).</summary>
    public static JsonObject Instance(
        string app,
        string id,
        string status = "UP",
        long lastDirtyTimestamp = 1_000,
        string? overriddenStatus = null,
        string hostName = "host-a",
        string? vipAddress = null)
    {
        var instance = new JsonObject
        {
            ["instanceId"] = id,
            ["hostName"] = hostName,
            ["app"] = app,
            ["ipAddr"] = "10.0.0.1",
            ["status"] = status,
            ["port"] = new JsonObject { ["$"] = 8080, ["@enabled"] = "true" },
            ["securePort"] = new JsonObject { ["$"] = 443, ["@enabled"] = "false" },
            ["dataCenterInfo"] = new JsonObject
            {
                ["@class"] = "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo",
                ["name"] = "MyOwn",
            },
            ["metadata"] = new JsonObject { ["@class"] = "java.util.Collections$EmptyMap" },
            ["lastDirtyTimestamp"] = lastDirtyTimestamp.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (overriddenStatus is not null)
        {
            instance["overriddenStatus"] = overriddenStatus;
        }

        if (vipAddress is not null)
        {
            instance["vipAddress"] = vipAddress;
        }

        return instance;
    }
}

internal static class Fixture
{
    public static string Read(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", name));

    public static string JsClientDirectory() =>
        typeof(Fixture).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "JsClientDirectory").Value!;
}
