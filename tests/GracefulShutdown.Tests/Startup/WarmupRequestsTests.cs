using GracefulShutdown.Startup;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulShutdown.Tests.Startup;

public sealed class WarmupRequestsTests
{
    [Theory]
    [InlineData(new[] { "http://127.0.0.1:5000" }, null, "http://127.0.0.1:5000/")]
    [InlineData(new[] { "http://[::]:8080" }, null, "http://127.0.0.1:8080/")]
    [InlineData(new[] { "http://+:80" }, null, "http://127.0.0.1/")]
    [InlineData(new[] { "http://localhost:5000" }, null, "http://127.0.0.1:5000/")]
    [InlineData(new[] { "https://0.0.0.0:8443", "http://0.0.0.0:8080" }, null, "http://127.0.0.1:8080/")]
    [InlineData(new[] { "http://0.0.0.0:8081", "http://0.0.0.0:8080" }, 8081, "http://127.0.0.1:8080/")]
    [InlineData(new[] { "https://0.0.0.0:8443" }, null, "https://127.0.0.1:8443/")]
    public void BaseAddress_PicksTheAppsOwnLoopbackAddress(string[] addresses, int? managementPort, string expected)
    {
        Assert.Equal(new Uri(expected), WarmupRequests.BaseAddress(addresses, managementPort));
    }

    [Fact]
    public void BaseAddress_OnlyTheManagementPort_IsNull()
    {
        Assert.Null(WarmupRequests.BaseAddress(["http://0.0.0.0:8081"], 8081));
    }

    [Fact]
    public void AddWarmupRequests_RelativePathWithoutSlash_Throws()
    {
        var services = new ServiceCollection();

        Assert.Throws<ArgumentException>("paths", () => services.AddGracefulShutdown().AddWarmupRequests("health"));
    }
}
