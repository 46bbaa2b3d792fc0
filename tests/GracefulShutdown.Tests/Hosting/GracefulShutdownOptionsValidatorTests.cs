using GracefulShutdown.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace GracefulShutdown.Tests.Hosting;

public sealed class GracefulShutdownOptionsValidatorTests
{
    private readonly GracefulShutdownOptionsValidator _validator = new();

    [Fact]
    public void Validate_Defaults_Succeed()
    {
        Assert.True(_validator.Validate(null, new GracefulShutdownOptions()).Succeeded);
    }

    [Fact]
    public void Validate_MinimumAboveMaximum_NamesBothKeysAndValues()
    {
        var options = new GracefulShutdownOptions { TrafficWait = { Minimum = TimeSpan.FromSeconds(20), Maximum = TimeSpan.FromSeconds(10) } };

        ValidateOptionsResult result = _validator.Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("GracefulShutdown:TrafficWait:Minimum (00:00:20) must not exceed GracefulShutdown:TrafficWait:Maximum (00:00:10)", result.FailureMessage);
    }

    [Fact]
    public void Validate_BudgetAboveGracePeriod_NamesEveryKeyAndValue()
    {
        var options = new GracefulShutdownOptions { TrafficWait = { Maximum = TimeSpan.FromSeconds(20) } };

        ValidateOptionsResult result = _validator.Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("GracefulShutdown:TrafficWait:Maximum (00:00:20) + GracefulShutdown:DrainTimeout (00:00:10) + " +
            "GracefulShutdown:StopMargin (00:00:03) = 00:00:33 exceeds GracefulShutdown:TerminationGracePeriod (00:00:30)", result.FailureMessage);
    }

    [Fact]
    public void Validate_BudgetExactlyTheGracePeriod_Succeeds()
    {
        var options = new GracefulShutdownOptions { TrafficWait = { Maximum = TimeSpan.FromSeconds(17) } };

        Assert.True(_validator.Validate(null, options).Succeeded);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(65536)]
    public void Validate_ManagementPortOutOfRange_Fails(int port)
    {
        ValidateOptionsResult result = _validator.Validate(null, new GracefulShutdownOptions { ManagementPort = port });

        Assert.Contains($"GracefulShutdown:ManagementPort ({port}) must be between 1 and 65535.", result.FailureMessage);
    }

    [Fact]
    public void Validate_SamePathTwice_Fails()
    {
        var options = new GracefulShutdownOptions { Endpoints = { LivenessPath = "/health/READY" } };

        ValidateOptionsResult result = _validator.Validate(null, options);

        Assert.Contains("GracefulShutdown:Endpoints:ReadinessPath and GracefulShutdown:Endpoints:LivenessPath are all '/health/ready'", result.FailureMessage);
    }

    [Theory]
    [InlineData("health")]
    [InlineData("/health?x=1")]
    [InlineData("")]
    public void Validate_BadPath_Fails(string path)
    {
        ValidateOptionsResult result = _validator.Validate(null, new GracefulShutdownOptions { Endpoints = { PreStopPath = path } });

        Assert.Contains($"GracefulShutdown:Endpoints:PreStopPath ('{path}') must be a path", result.FailureMessage);
    }

    [Fact]
    public void Validate_LeadNotBelowDrainTimeout_Fails()
    {
        var options = new GracefulShutdownOptions { DrainTimeout = TimeSpan.FromSeconds(2), DrainCancellationLead = TimeSpan.FromSeconds(2) };

        Assert.Contains("GracefulShutdown:DrainCancellationLead (00:00:02) must be less than GracefulShutdown:DrainTimeout (00:00:02)",
            _validator.Validate(null, options).FailureMessage);
    }

    [Fact]
    public void Validate_WhiteSpaceToken_Fails()
    {
        var options = new GracefulShutdownOptions { PreStop = { Token = "  " } };

        Assert.Contains("GracefulShutdown:PreStop:Token must not be empty", _validator.Validate(null, options).FailureMessage);
    }

    [Fact]
    public async Task StartAsync_InvalidConfiguration_FailsWithKeysAndValues()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["GracefulShutdown:TrafficWait:Maximum"] = "00:01:00",
        });
        builder.WebHost.UseTestServer();
        builder.Services.AddGracefulShutdown();

        var exception = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            await using WebApplication app = builder.Build();
            await app.StartAsync();
        });

        Assert.Contains("GracefulShutdown:TrafficWait:Maximum (00:01:00)", exception.Message);
        Assert.Contains("exceeds GracefulShutdown:TerminationGracePeriod (00:00:30)", exception.Message);
    }

    [Fact]
    public async Task StartAsync_UnknownKey_FailsNamingIt()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["GracefulShutdown:TrafficWait:Minimun"] = "00:00:01",
        });
        builder.WebHost.UseTestServer();
        builder.Services.AddGracefulShutdown();

        var exception = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using WebApplication app = builder.Build();
            await app.StartAsync();
        });

        Assert.Contains("Minimun", exception.Message);
    }

    [Fact]
    public void HostOptions_ShutdownTimeout_IsTheWholeBudget()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["GracefulShutdown:TrafficWait:Maximum"] = "00:00:12",
            ["GracefulShutdown:DrainTimeout"] = "00:00:08",
            ["GracefulShutdown:StopMargin"] = "00:00:04",
        }).Build());
        services.AddGracefulShutdown();
        using ServiceProvider provider = services.BuildServiceProvider();

        Assert.Equal(TimeSpan.FromSeconds(24), provider.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);
    }
}
