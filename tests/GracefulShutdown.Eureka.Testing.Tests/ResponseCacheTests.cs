using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;

namespace GracefulShutdown.Eureka.Testing.Tests;

/// <summary>
/// tests/Fixtures/eureka/CONTRACT.md, "Server read-only response cache refresh": with a response cache interval, the registry reads
/// callers fetch show the registry as it was at the last refresh; instance reads stay live.
/// </summary>
public sealed class ResponseCacheTests
{
    // 2025-01-01T00:00:10Z: 20 s before the next multiple of 30 s since the epoch, where Java's timer first runs.
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 1, 0, 0, 10, TimeSpan.Zero));

    private static string? StatusOf(JsonElement application, string id)
    {
        foreach (JsonElement instance in application.GetProperty("application").GetProperty("instance").EnumerateArray())
        {
            if (instance.GetProperty("instanceId").GetString() == id)
            {
                return instance.GetProperty("status").GetString();
            }
        }

        return null;
    }

    [Fact]
    public async Task StatusOverride_ShowsInTheCachedViewOnlyAfterTheNextRefresh_InstanceReadIsLive()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync(_time, TimeSpan.FromSeconds(30));
        using var http = new EurekaHttp(eureka.BaseUri);
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1"))).Dispose();
        Assert.Equal("UP", StatusOf(await http.GetJsonBodyAsync("apps/A"), "a-1")); // the first reads fill the cache
        Assert.Equal("UP_1_", (await http.GetJsonBodyAsync("apps")).GetProperty("applications").GetProperty("apps__hashcode").GetString());

        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(200, await http.StatusAsync(HttpMethod.Put, "apps/A/a-1/status?value=OUT_OF_SERVICE&lastDirtyTimestamp=2000"));

        Assert.Equal("OUT_OF_SERVICE", (await http.GetJsonBodyAsync("apps/A/a-1")).GetProperty("instance").GetProperty("status").GetString());
        Assert.Equal("UP", StatusOf(await http.GetJsonBodyAsync("apps/A"), "a-1"));
        Assert.Equal("UP_1_", (await http.GetJsonBodyAsync("apps")).GetProperty("applications").GetProperty("apps__hashcode").GetString());
        _time.Advance(TimeSpan.FromMilliseconds(14_999)); // 1 ms before the refresh at :30
        Assert.Equal("UP", StatusOf(await http.GetJsonBodyAsync("apps/A"), "a-1"));

        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal("OUT_OF_SERVICE", StatusOf(await http.GetJsonBodyAsync("apps/A"), "a-1"));
        Assert.Equal("OUT_OF_SERVICE_1_", (await http.GetJsonBodyAsync("apps")).GetProperty("applications").GetProperty("apps__hashcode").GetString());
        Assert.Equal(TimeSpan.FromSeconds(30), eureka.ResponseCacheUpdateInterval);
    }

    [Fact]
    public async Task Cancel_TheCachedViewKeepsTheInstanceUntilTheRefresh_ThenTheAppIsGone()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync(_time, TimeSpan.FromSeconds(10));
        using var http = new EurekaHttp(eureka.BaseUri);
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1"))).Dispose();
        Assert.Equal("UP", StatusOf(await http.GetJsonBodyAsync("apps/A"), "a-1"));

        Assert.Equal(200, await http.StatusAsync(HttpMethod.Delete, "apps/A/a-1"));
        Assert.Equal("UP", StatusOf(await http.GetJsonBodyAsync("apps/A"), "a-1"));
        Assert.Equal(404, await http.StatusAsync(HttpMethod.Get, "apps/A/a-1"));
        _time.Advance(TimeSpan.FromSeconds(10)); // :10 is itself a multiple of 10 s: the next refresh is at :20

        Assert.Equal(404, await http.StatusAsync(HttpMethod.Get, "apps/A"));
    }

    [Fact]
    public async Task FirstReadOfAKey_ShowsTheRegistryOfThatMoment()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync(_time, TimeSpan.FromSeconds(30));
        using var http = new EurekaHttp(eureka.BaseUri);
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1"))).Dispose();
        Assert.Equal(200, await http.StatusAsync(HttpMethod.Put, "apps/A/a-1/status?value=OUT_OF_SERVICE&lastDirtyTimestamp=2000"));

        Assert.Equal("OUT_OF_SERVICE", StatusOf(await http.GetJsonBodyAsync("apps/A"), "a-1"));
    }

    [Fact]
    public async Task WithoutAnInterval_ReadsReflectTheRegistryAtOnce()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync(_time);
        using var http = new EurekaHttp(eureka.BaseUri);
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1"))).Dispose();
        Assert.Equal("UP", StatusOf(await http.GetJsonBodyAsync("apps/A"), "a-1"));

        Assert.Equal(200, await http.StatusAsync(HttpMethod.Put, "apps/A/a-1/status?value=OUT_OF_SERVICE&lastDirtyTimestamp=2000"));

        Assert.Equal("OUT_OF_SERVICE", StatusOf(await http.GetJsonBodyAsync("apps/A"), "a-1"));
        Assert.Null(eureka.ResponseCacheUpdateInterval);
    }

    [Fact]
    public async Task ZeroInterval_IsRejected() =>
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => EurekaServerStandIn.StartAsync(_time, TimeSpan.Zero));
}
