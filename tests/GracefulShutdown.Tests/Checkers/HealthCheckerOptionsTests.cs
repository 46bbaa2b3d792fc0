using GracefulShutdown.Checkers;
using GracefulShutdown.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace GracefulShutdown.Tests.Checkers;

public sealed class HealthCheckerOptionsTests
{
    private readonly GracefulShutdownOptionsValidator _validator = new();

    private static GracefulShutdownOptions Bind(params (string Key, string Value)[] settings)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(static s => new KeyValuePair<string, string?>(s.Key, s.Value))).Build());
        services.AddGracefulShutdown();
        using ServiceProvider provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IOptions<GracefulShutdownOptions>>().Value;
    }

    [Fact]
    public void Profiles_BindPerUserAgent_FromConfiguration_AndOverrideTheBuiltIn()
    {
        GracefulShutdownOptions options = Bind(
            ("GracefulShutdown:HealthCheckers:Profiles:ELB-HealthChecker/2.0:UnhealthyThreshold", "5"),
            ("GracefulShutdown:HealthCheckers:Profiles:(none):ApplyLag", "00:00:02"),
            ("GracefulShutdown:HealthCheckers:Paths:0", "/"));

        HealthCheckerProfile elb = HealthCheckerProfile.For("ELB-HealthChecker/2.0", options.HealthCheckers.Profiles);
        HealthCheckerProfile haproxy = HealthCheckerProfile.For("(none)", options.HealthCheckers.Profiles);

        Assert.Equal((5, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(40)), (elb.UnhealthyThreshold, elb.Interval, elb.ApplyLag));
        Assert.Equal((3, TimeSpan.FromSeconds(2)), (haproxy.UnhealthyThreshold, haproxy.ApplyLag));
        Assert.Equal(["/"], options.HealthCheckers.Paths);
    }

    [Theory]
    [InlineData("ELB-HealthChecker/2.0", "aws-elb")]
    [InlineData("elb-healthchecker/2.0", "aws-elb")]
    [InlineData("GoogleHC/1.0", "google-cloud")]
    [InlineData("Envoy/HC", "envoy")]
    [InlineData("YARP/2.3.0 (Active Health Check Monitor)", "yarp")]
    [InlineData("(none)", "haproxy-httpchk")]
    [InlineData("(none) but not really", "unrecognised")]
    [InlineData("curl/8.5.0", "unrecognised")]
    public void BuiltInProfiles_ByUserAgentPrefix(string userAgent, string profile)
    {
        Assert.Equal(profile, HealthCheckerProfile.For(userAgent, new Dictionary<string, HealthCheckerProfileOptions>()).Name);
    }

    [Fact]
    public void Validate_ProfileOutOfRange_NamesTheFullKeyWithItsDotsAndTheValue()
    {
        var options = new GracefulShutdownOptions();
        options.HealthCheckers.Profiles["ELB-HealthChecker/2.0"] = new HealthCheckerProfileOptions
        {
            UnhealthyThreshold = 0, Interval = TimeSpan.Zero, ApplyLag = TimeSpan.FromHours(2),
        };

        ValidateOptionsResult result = _validator.Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("GracefulShutdown:HealthCheckers:Profiles:ELB-HealthChecker/2.0:UnhealthyThreshold (0) must be between 1 and 100.", result.FailureMessage);
        Assert.Contains("GracefulShutdown:HealthCheckers:Profiles:ELB-HealthChecker/2.0:Interval (00:00:00) must be between 00:00:00.1 and 00:10:00.", result.FailureMessage);
        Assert.Contains("GracefulShutdown:HealthCheckers:Profiles:ELB-HealthChecker/2.0:ApplyLag (02:00:00) must be at most 01:00:00.", result.FailureMessage);
    }

    [Fact]
    public void Validate_PathsAndPeriods_NameKeyAndValue()
    {
        var options = new GracefulShutdownOptions { HealthCheckers = { Paths = ["healthz"], StoppedAfterPeriods = 1 } };

        ValidateOptionsResult result = _validator.Validate(null, options);

        Assert.Contains("GracefulShutdown:HealthCheckers:Paths ('healthz') must each start with '/'.", result.FailureMessage);
        Assert.Contains("GracefulShutdown:HealthCheckers:StoppedAfterPeriods (1) must be between 2 and 100.", result.FailureMessage);
    }

    [Fact]
    public void Bind_UnknownProfileSetting_FailsStartUpNamingTheKey()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(
            [new("GracefulShutdown:HealthCheckers:Threshold", "2")]).Build());
        services.AddGracefulShutdown();
        using ServiceProvider provider = services.BuildServiceProvider();

        var error = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<IOptions<GracefulShutdownOptions>>().Value);
        Assert.Contains("GracefulShutdown:HealthCheckers:Threshold", error.Message, StringComparison.Ordinal);
    }
}
