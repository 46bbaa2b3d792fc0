using GracefulShutdown.Eureka.Client;
using GracefulShutdown.Eureka.Registration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace GracefulShutdown.Eureka.Tests;

public class AddEurekaTests
{
    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddLogging();
        services.AddGracefulShutdown().AddEureka();
        return services.BuildServiceProvider();
    }

    [Fact]
    public void AddEureka_NullBuilder_Throws()
    {
        Assert.Throws<ArgumentNullException>("builder", () => EurekaGracefulShutdownBuilderExtensions.AddEureka(null!));
    }

    [Fact]
    public void AddEureka_ReturnsTheBuilder_AndIsIdempotent()
    {
        var services = new ServiceCollection();
        IGracefulShutdownBuilder builder = services.AddGracefulShutdown();

        Assert.Same(builder, builder.AddEureka());
        builder.AddEureka();
        services.AddGracefulShutdown().AddEureka();

        Assert.Single(services, d => d.ImplementationType == typeof(EurekaRegistrationService));
        using ServiceProvider provider = services.BuildServiceProvider();
        Assert.Single(provider.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations, r => r.Name == EurekaHealthChecks.Name);
    }

    [Fact]
    public void Options_BindFromSteeltoeKeys()
    {
        using ServiceProvider provider = Build(new()
        {
            ["eureka:client:serviceUrl"] = "http://a:8761/eureka/, http://b:8761/eureka/",
            ["eureka:client:shouldRegisterWithEureka"] = "false",
            ["eureka:client:requestTimeoutSeconds"] = "7",
            ["eureka:client:cachedViewPollSeconds"] = "5",
            ["eureka:client:callerFetchIntervalSeconds"] = "10",
            ["eureka:client:callerLoadBalancerCacheSeconds"] = "15",
            ["eureka:instance:appName"] = "orders",
            ["eureka:instance:instanceId"] = "orders-1",
            ["eureka:instance:hostName"] = "orders.local",
            ["eureka:instance:ipAddress"] = "10.0.0.9",
            ["eureka:instance:preferIpAddress"] = "true",
            ["eureka:instance:port"] = "8080",
            ["eureka:instance:securePort"] = "8443",
            ["eureka:instance:vipAddress"] = "orders-vip",
            ["eureka:instance:secureVipAddress"] = "orders-svip",
            ["eureka:instance:leaseRenewalIntervalInSeconds"] = "10",
            ["eureka:instance:leaseExpirationDurationInSeconds"] = "30",
            ["eureka:instance:metadataMap:zone"] = "eu-1",
            ["eureka:instance:metadataMap:version"] = "1.2.3",
            ["eureka:instance:statusPageUrlPath"] = "/about",
            ["eureka:instance:healthCheckUrlPath"] = "/hc",
        });

        EurekaClientOptions client = provider.GetRequiredService<IOptions<EurekaClientOptions>>().Value;
        EurekaInstanceOptions instance = provider.GetRequiredService<IOptions<EurekaInstanceOptions>>().Value;

        Assert.Equal("http://a:8761/eureka/, http://b:8761/eureka/", client.ServiceUrl);
        Assert.False(client.ShouldRegisterWithEureka);
        Assert.Equal(7, client.RequestTimeoutSeconds);
        Assert.Equal((5, 10, 15), (client.CachedViewPollSeconds, client.CallerFetchIntervalSeconds, client.CallerLoadBalancerCacheSeconds));
        Assert.Equal(("orders", "orders-1", "orders.local", "10.0.0.9"), (instance.AppName, instance.InstanceId, instance.HostName, instance.IpAddress));
        Assert.True(instance.PreferIpAddress);
        Assert.Equal((8080, 8443), (instance.Port, instance.SecurePort));
        Assert.Equal(("orders-vip", "orders-svip"), (instance.VipAddress, instance.SecureVipAddress));
        Assert.Equal((10, 30), (instance.LeaseRenewalIntervalInSeconds, instance.LeaseExpirationDurationInSeconds));
        Assert.Equal(new Dictionary<string, string> { ["zone"] = "eu-1", ["version"] = "1.2.3" }, instance.MetadataMap);
        Assert.Equal(("/about", "/hc"), (instance.StatusPageUrlPath, instance.HealthCheckUrlPath));
        Assert.Equal(["http://a:8761/eureka/", "http://b:8761/eureka/"], provider.GetRequiredService<EurekaHttpClient>().Servers);
    }

    [Fact]
    public void Options_Defaults()
    {
        using ServiceProvider provider = Build([]);

        EurekaClientOptions client = provider.GetRequiredService<IOptions<EurekaClientOptions>>().Value;
        EurekaInstanceOptions instance = provider.GetRequiredService<IOptions<EurekaInstanceOptions>>().Value;

        Assert.Null(client.ServiceUrl);
        Assert.True(client.ShouldRegisterWithEureka);
        Assert.Equal(5, client.RequestTimeoutSeconds);
        Assert.Equal(90, client.PropagationSeconds);
        Assert.Equal((2, 30, 35), (client.CachedViewPollSeconds, client.CallerFetchIntervalSeconds, client.CallerLoadBalancerCacheSeconds));
        Assert.Equal((30, 90), (instance.LeaseRenewalIntervalInSeconds, instance.LeaseExpirationDurationInSeconds));
        Assert.Equal(0, instance.Port);
        Assert.Empty(provider.GetRequiredService<EurekaHttpClient>().Servers);
    }

    [Theory]
    [InlineData("eureka:client:serviceUrl", "eureka:8761", "eureka:client:serviceUrl contains 'eureka:8761', which is not an absolute http or https URI")]
    [InlineData("eureka:client:serviceUrl", "http://a:8761/eureka/,ftp://b/", "'ftp://b/', which is not an absolute http or https URI")]
    [InlineData("eureka:client:serviceUrl", "/eureka/", "'/eureka/', which is not an absolute")]
    [InlineData("eureka:client:serviceUrl", "http://user:secret@a:8761/eureka/?x=1", "'http://***@a:8761/eureka/?x=1', which has a query")]
    [InlineData("eureka:client:requestTimeoutSeconds", "0", "eureka:client:requestTimeoutSeconds (0) must be between 1 and 300.")]
    [InlineData("eureka:client:cachedViewPollSeconds", "61", "eureka:client:cachedViewPollSeconds (61) must be between 0 and 60.")]
    [InlineData("eureka:client:callerFetchIntervalSeconds", "-1", "eureka:client:callerFetchIntervalSeconds (-1) must be between 0 and 3600.")]
    [InlineData("eureka:client:callerLoadBalancerCacheSeconds", "3601", "eureka:client:callerLoadBalancerCacheSeconds (3601) must be between 0 and 3600.")]
    [InlineData("eureka:instance:port", "70000", "eureka:instance:port (70000) must be between 0 and 65535.")]
    [InlineData("eureka:instance:ipAddress", "not-an-ip", "eureka:instance:ipAddress ('not-an-ip') is not an IP address.")]
    [InlineData("eureka:instance:leaseExpirationDurationInSeconds", "20", "eureka:instance:leaseExpirationDurationInSeconds (20) must be greater than eureka:instance:leaseRenewalIntervalInSeconds (30)")]
    [InlineData("eureka:instance:healthCheckUrlPath", "health", "eureka:instance:healthCheckUrlPath ('health') must be a path that starts with '/'")]
    [InlineData("eureka:instance:appName", "my app", "eureka:instance:appName ('my app') must not contain white space.")]
    public async Task Start_InvalidOptions_FailsNamingKeyAndValue(string key, string value, string expected)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { [key] = value });
        builder.Services.AddGracefulShutdown().AddEureka();
        await using WebApplication app = builder.Build();

        OptionsValidationException ex = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Host_WithoutServiceUrl_StartsAndStops_AsWithoutEureka()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Services.AddGracefulShutdown().AddEureka();
        await using WebApplication app = builder.Build();

        await app.StartAsync();
        HealthReport report = await app.Services.GetRequiredService<HealthCheckService>()
            .CheckHealthAsync(r => r.Tags.Contains(EurekaHealthChecks.Tag));
        await app.StopAsync();

        Assert.Equal(HealthStatus.Healthy, report.Entries[EurekaHealthChecks.Name].Status);
        Assert.Equal(EurekaRegistration.Off, app.Services.GetRequiredService<EurekaRegistrationState>().Registration);
    }
}
