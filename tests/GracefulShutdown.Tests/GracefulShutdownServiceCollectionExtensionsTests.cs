using GracefulShutdown.Endpoints;
using GracefulShutdown.Hosting;
using GracefulShutdown.Lifecycle;
using GracefulShutdown.Startup;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace GracefulShutdown.Tests;

public sealed class GracefulShutdownServiceCollectionExtensionsTests
{
    private static ServiceProvider Build(Action<IServiceCollection> configure, Dictionary<string, string?>? configuration = null)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(configuration ?? []).Build());
        configure(services);
        return services.BuildServiceProvider();
    }

    [Fact]
    public void AddGracefulShutdown_NullServices_Throws()
    {
        Assert.Throws<ArgumentNullException>("services", () => ((IServiceCollection)null!).AddGracefulShutdown());
    }

    [Fact]
    public void AddGracefulShutdown_Twice_RegistersOnce()
    {
        var services = new ServiceCollection();
        services.AddGracefulShutdown();
        int count = services.Count;

        IGracefulShutdownBuilder builder = services.AddGracefulShutdown();

        Assert.Equal(count, services.Count);
        Assert.Same(services, builder.Services);
        Assert.Single(services, d => d.ImplementationType == typeof(LifecycleHostedService));
        Assert.Single(services, d => d.ImplementationType == typeof(GracefulShutdownStartupFilter));
    }

    [Fact]
    public void AddGracefulShutdown_BindsTheSection()
    {
        using ServiceProvider provider = Build(s => s.AddGracefulShutdown(), new()
        {
            ["GracefulShutdown:TrafficWait:Minimum"] = "00:00:03",
            ["GracefulShutdown:Endpoints:ReadinessPath"] = "/ready",
            ["GracefulShutdown:PreStop:Token"] = "s3cret",
            ["GracefulShutdown:ManagementPort"] = "8081",
        });

        GracefulShutdownOptions options = provider.GetRequiredService<IOptions<GracefulShutdownOptions>>().Value;

        Assert.Equal(TimeSpan.FromSeconds(3), options.TrafficWait.Minimum);
        Assert.Equal("/ready", options.Endpoints.ReadinessPath);
        Assert.Equal("s3cret", options.PreStop.Token);
        Assert.Equal(8081, options.ManagementPort);
    }

    [Fact]
    public void AddGracefulShutdown_Action_RunsAfterTheSection()
    {
        using ServiceProvider provider = Build(s => s.AddGracefulShutdown(o => o.DrainTimeout = TimeSpan.FromSeconds(4)),
            new() { ["GracefulShutdown:DrainTimeout"] = "00:00:07" });

        Assert.Equal(TimeSpan.FromSeconds(4), provider.GetRequiredService<IOptions<GracefulShutdownOptions>>().Value.DrainTimeout);
    }

    [Fact]
    public void AddGracefulShutdown_ConfigurationSection_IsBound()
    {
        IConfigurationSection section = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Shutdown:TrafficWait:QuietPeriod"] = "00:00:01" })
            .Build().GetSection("Shutdown");

        using ServiceProvider provider = Build(s => s.AddGracefulShutdown(section));

        Assert.Equal(TimeSpan.FromSeconds(1), provider.GetRequiredService<IOptions<GracefulShutdownOptions>>().Value.TrafficWait.QuietPeriod);
    }

    [Fact]
    public void AddStartupGate_RegistersTheGate()
    {
        var services = new ServiceCollection();

        services.AddGracefulShutdown().AddStartupGate("cache", (_, _) => Task.CompletedTask);

        Assert.Single(services, d => d.ServiceType == typeof(StartupGate));
        Assert.Throws<ArgumentException>("name", () => services.AddGracefulShutdown().AddStartupGate(" ", (_, _) => Task.CompletedTask));
    }

    [Fact]
    public void MapGracefulShutdownEndpoints_WithoutAddGracefulShutdown_ThrowsNamingIt()
    {
        WebApplication app = WebApplication.CreateSlimBuilder().Build();

        var exception = Assert.Throws<InvalidOperationException>(() => app.MapGracefulShutdownEndpoints());

        Assert.Contains("AddGracefulShutdown()", exception.Message);
    }

    [Fact]
    public void IGracefulShutdown_IsTheLifecycleService()
    {
        using ServiceProvider provider = Build(s => s.AddGracefulShutdown());

        Assert.Same(provider.GetRequiredService<GracefulShutdownService>(), provider.GetRequiredService<IGracefulShutdown>());
    }

    [Fact]
    public void AddGracefulShutdown_ConfigurationSection_BindsOnlyThatSection()
    {
        IConfigurationRoot configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["GracefulShutdown:DrainTimeout"] = "00:00:20",
            ["GracefulShutdown:NotAnOption"] = "ignored, because this section is not the one passed",
            ["Shutdown:DrainTimeout"] = "00:00:07",
        }).Build();
        using ServiceProvider provider = Build(services =>
        {
            services.AddSingleton<IConfiguration>(configuration);
            services.AddGracefulShutdown(configuration.GetSection("Shutdown"));
        });

        Assert.Equal(TimeSpan.FromSeconds(7), provider.GetRequiredService<IOptions<GracefulShutdownOptions>>().Value.DrainTimeout);
    }

    [Fact]
    public void AddGracefulShutdown_ConfigurationSectionWithUnknownKey_FailsNamingTheKey()
    {
        IConfigurationRoot configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Shutdown:DrainTimout"] = "00:00:07",
        }).Build();
        using ServiceProvider provider = Build(services => services.AddGracefulShutdown(configuration.GetSection("Shutdown")));

        InvalidOperationException error = Assert.Throws<InvalidOperationException>(
            () => provider.GetRequiredService<IOptions<GracefulShutdownOptions>>().Value);
        Assert.Contains("DrainTimout", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddGracefulShutdown_AnAddOnsStrictSubsection_IsLeftToTheAddOn_WhileTyposStillFailOnBothSides()
    {
        // An add-on binds its own section strictly; the core names none.
        static void AddOn(IServiceCollection services) =>
            services.AddOptions<AddOnOptions>().BindStrictly(GracefulShutdownOptions.SectionName + ":AddOn");

        using ServiceProvider accepted = Build(services => AddOn(services.AddGracefulShutdown().Services), new()
        {
            ["GracefulShutdown:AddOn:Setting"] = "on",
            ["GracefulShutdown:TrafficWait:Maximum"] = "00:00:12",
        });
        Assert.Equal(TimeSpan.FromSeconds(12), accepted.GetRequiredService<IOptions<GracefulShutdownOptions>>().Value.TrafficWait.Maximum);
        Assert.Equal("on", accepted.GetRequiredService<IOptions<AddOnOptions>>().Value.Setting);

        using ServiceProvider coreTypo = Build(services => AddOn(services.AddGracefulShutdown().Services), new() { ["GracefulShutdown:TrafficWait:Maximun"] = "00:00:20" });
        InvalidOperationException error = Assert.Throws<InvalidOperationException>(
            () => coreTypo.GetRequiredService<IOptions<GracefulShutdownOptions>>().Value);
        Assert.Contains("Maximun", error.Message, StringComparison.Ordinal);

        using ServiceProvider addOnTypo = Build(services => AddOn(services.AddGracefulShutdown().Services), new() { ["GracefulShutdown:AddOn:Setings"] = "on" });
        error = Assert.Throws<InvalidOperationException>(() => addOnTypo.GetRequiredService<IOptions<AddOnOptions>>().Value);
        Assert.Contains("GracefulShutdown:AddOn:Setings ('on'); AddOnOptions has Setting", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddGracefulShutdown_AnAddOnsNamedSubsections_AreLeftToTheAddOn_WhileAMisspeltNameFails()
    {
        // An add-on with one section per name (GracefulShutdown.RabbitMQ: GracefulShutdown:RabbitMQ:<consumer>).
        static void AddOn(IServiceCollection services) =>
            services.AddOptions<AddOnOptions>("orders").BindStrictly(GracefulShutdownOptions.SectionName + ":AddOn:orders");

        using ServiceProvider accepted = Build(services => AddOn(services.AddGracefulShutdown().Services), new()
        {
            ["GracefulShutdown:AddOn:orders:Setting"] = "on",
            ["GracefulShutdown:DrainTimeout"] = "00:00:07",
        });
        Assert.Equal(TimeSpan.FromSeconds(7), accepted.GetRequiredService<IOptions<GracefulShutdownOptions>>().Value.DrainTimeout);
        Assert.Equal("on", accepted.GetRequiredService<IOptionsMonitor<AddOnOptions>>().Get("orders").Setting);

        using ServiceProvider misspelt = Build(services => AddOn(services.AddGracefulShutdown().Services), new() { ["GracefulShutdown:AddOn:order:Setting"] = "on" });
        InvalidOperationException error = Assert.Throws<InvalidOperationException>(
            () => misspelt.GetRequiredService<IOptions<GracefulShutdownOptions>>().Value);
        Assert.Contains("GracefulShutdown:AddOn:order (a section); GracefulShutdown:AddOn has orders", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddGracefulShutdown_AnAddOnsSection_WithoutTheAddOn_FailsRatherThanBeingIgnored()
    {
        using ServiceProvider provider = Build(services => services.AddGracefulShutdown(), new() { ["GracefulShutdown:Grpc:ReadinessService"] = "ready" });

        InvalidOperationException error = Assert.Throws<InvalidOperationException>(
            () => provider.GetRequiredService<IOptions<GracefulShutdownOptions>>().Value);
        Assert.Contains("GracefulShutdown:Grpc (a section); GracefulShutdownOptions has ", error.Message, StringComparison.Ordinal);
    }

    /// <summary>An add-on's options.</summary>
    public sealed class AddOnOptions
    {
        public string? Setting { get; set; }
    }

    [Theory]
    [InlineData("GracefulShutdown:Typo", "1", "GracefulShutdown:Typo ('1'); GracefulShutdownOptions has ")]
    [InlineData("GracefulShutdown:TrafficWait:Maximun", "00:00:20", "GracefulShutdown:TrafficWait:Maximun ('00:00:20'); TrafficWaitOptions has Minimum, Maximum, QuietPeriod")]
    [InlineData("GracefulShutdown:PreStop:Tokn", "s3cr3t", "GracefulShutdown:PreStop:Tokn (value not shown); PreStopOptions has ")]
    [InlineData("GracefulShutdown:Connectons:CloseWindow", "00:00:01", "GracefulShutdown:Connectons (a section); GracefulShutdownOptions has ")]
    public void AddGracefulShutdown_UnknownKey_FailsNamingTheFullKeyItsValueAndTheKnownSettings(string key, string value, string expected)
    {
        using ServiceProvider provider = Build(services => services.AddGracefulShutdown(), new() { [key] = value });

        InvalidOperationException error = Assert.Throws<InvalidOperationException>(
            () => provider.GetRequiredService<IOptions<GracefulShutdownOptions>>().Value);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Shape", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t", error.Message, StringComparison.Ordinal);
    }
}
