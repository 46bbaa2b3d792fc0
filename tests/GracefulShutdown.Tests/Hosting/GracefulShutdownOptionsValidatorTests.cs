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
    public async Task StartAsync_DurationsNearTimeSpanMaxValue_FailValidationNamingTheKeys_NotWithAnOverflow()
    {
        // The review's reproduction (defect 4): the sum of the budget overflowed in the validator, the host-options setup and the
        // watchdog, and start-up crashed with OverflowException (exit 134).
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["GracefulShutdown:TrafficWait:Maximum"] = "10675199.02:48:05",
            ["GracefulShutdown:TerminationGracePeriod"] = "10675199.02:48:05",
        });
        builder.WebHost.UseTestServer();
        builder.Services.AddGracefulShutdown();

        var exception = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            await using WebApplication app = builder.Build();
            await app.StartAsync();
        });

        Assert.Contains("GracefulShutdown:TrafficWait:Maximum (10675199.02:48:05) must be at most 1.00:00:00.", exception.Message);
        Assert.Contains("GracefulShutdown:TerminationGracePeriod (10675199.02:48:05) must be at most 1.00:00:00.", exception.Message);
    }

    [Theory]
    [InlineData("50.00:00:00")]
    [InlineData("49.17:02:47.295")]
    public void Validate_AGracePeriodTheTimersCannotTake_NamesTheKey(string value)
    {
        // Defect 3: 49.7 days and more passed validation; every preStop call then began the drain and answered 500.
        var grace = TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
        var options = new GracefulShutdownOptions { TerminationGracePeriod = grace };

        ValidateOptionsResult result = _validator.Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains($"GracefulShutdown:TerminationGracePeriod ({grace}) must be at most 1.00:00:00.", result.Failures!);
    }

    [Theory]
    [InlineData("TrafficWait:Minimum")]
    [InlineData("TrafficWait:QuietPeriod")]
    [InlineData("DrainCancellationLead")]
    [InlineData("StopMargin")]
    [InlineData("PreStop:SigTermMargin")]
    [InlineData("Connections:CloseWindow")]
    [InlineData("Endpoints:ReadinessFailureDelay")]
    [InlineData("Sidecar:DrainDuration")]
    public void Validate_EveryDuration_NeitherNegativeNorAboveADay(string key)
    {
        foreach ((string value, string rule) in new[] { ("-00:00:01", "must not be negative."), ("1.00:00:01", "must be at most 1.00:00:00.") })
        {
            IConfiguration configuration = new ConfigurationBuilder()
                .AddInMemoryCollection(new Dictionary<string, string?> { [key] = value }).Build();
            var options = new GracefulShutdownOptions();
            configuration.Bind(options);

            ValidateOptionsResult result = _validator.Validate(null, options);

            Assert.Contains($"GracefulShutdown:{key} ({value}) {rule}", result.Failures!);
        }
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
