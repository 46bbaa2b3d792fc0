using System.Net;
using GracefulShutdown.Eureka.Configuration;

namespace GracefulShutdown.Eureka.Tests.Configuration;

public class EurekaInstanceResolverTests
{
    [Fact]
    public void Resolve_NothingConfigured_UsesTheHost()
    {
        EurekaInstanceIdentity id = EurekaInstanceResolver.Resolve(new EurekaInstanceOptions(), "Orders.Api", "/health/ready", ["http://[::]:8080"]);

        Assert.Equal("ORDERS.API", id.AppName);
        Assert.Equal(Dns.GetHostName(), id.HostName);         // the pod name in Kubernetes
        Assert.Equal($"{id.HostName}:Orders.Api:8080", id.InstanceId);
        Assert.True(IPAddress.TryParse(id.IpAddress, out IPAddress? ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork, id.IpAddress);
        Assert.Equal((8080, true), (id.Port, id.PortEnabled));
        Assert.False(id.SecurePortEnabled);
        Assert.Equal("Orders.Api", id.VipAddress);
        Assert.Equal($"http://{id.HostName}:8080/health/ready", id.HealthCheckUrl);
        Assert.Equal(30, id.LeaseRenewalIntervalInSeconds);
    }

    [Fact]
    public void Resolve_PreferIpAddress_UrlsUseTheIp()
    {
        var options = new EurekaInstanceOptions { PreferIpAddress = true, IpAddress = "10.9.9.9", HealthCheckUrlPath = "/hc" };

        EurekaInstanceIdentity id = EurekaInstanceResolver.Resolve(options, "app", "/health/ready", ["http://+:5000"]);

        Assert.Equal("http://10.9.9.9:5000/", id.HomePageUrl);
        Assert.Equal("http://10.9.9.9:5000/hc", id.HealthCheckUrl);
    }

    [Fact]
    public void Resolve_HttpsOnly_DisablesThePlainPort()
    {
        var options = new EurekaInstanceOptions { HostName = "h", IpAddress = "1.1.1.1" };

        EurekaInstanceIdentity id = EurekaInstanceResolver.Resolve(options, "app", "/r", ["https://*:8443"]);

        Assert.Equal((8443, true), (id.SecurePort, id.SecurePortEnabled));
        Assert.False(id.PortEnabled);
        Assert.Equal("https://h:8443/", id.HomePageUrl);
    }

    [Fact]
    public void Resolve_ConfiguredValues_Win()
    {
        var options = new EurekaInstanceOptions
        {
            AppName = "billing", InstanceId = "billing-1", HostName = "b.example", IpAddress = "10.0.0.1", Port = 9000,
            SecurePort = 9443, VipAddress = "billing-vip", SecureVipAddress = "billing-svip", LeaseRenewalIntervalInSeconds = 5,
            LeaseExpirationDurationInSeconds = 15, StatusPageUrlPath = "/about",
        };

        EurekaInstanceIdentity id = EurekaInstanceResolver.Resolve(options, "ignored", "/r", ["http://[::]:8080"]);

        Assert.Equal(("BILLING", "billing-1", "b.example", "10.0.0.1"), (id.AppName, id.InstanceId, id.HostName, id.IpAddress));
        Assert.Equal((9000, 9443, true), (id.Port, id.SecurePort, id.SecurePortEnabled));
        Assert.Equal(("billing-vip", "billing-svip"), (id.VipAddress, id.SecureVipAddress));
        Assert.Equal("http://b.example:9000/about", id.StatusPageUrl);
        Assert.Equal((5, 15), (id.LeaseRenewalIntervalInSeconds, id.LeaseExpirationDurationInSeconds));
    }

    [Theory]
    [InlineData(new[] { "http://localhost:5000", "https://localhost:5001" }, 5000, 5001)]
    [InlineData(new[] { "https://[::]:8443", "http://0.0.0.0:8080" }, 8080, 8443)]
    [InlineData(new[] { "http://unix:/tmp/kestrel.sock" }, null, null)]
    [InlineData(new string[0], null, null)]
    public void PortsFrom_ServerAddresses(string[] addresses, int? http, int? https)
    {
        Assert.Equal((http, https), EurekaInstanceResolver.PortsFrom(addresses));
    }
}
