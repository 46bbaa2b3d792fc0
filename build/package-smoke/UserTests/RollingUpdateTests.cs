using System.Diagnostics;
using GracefulShutdown.Testing;
using Xunit;
using Xunit.Abstractions;

namespace PackageConsumer.Tests;

/// <summary>
/// What a user writes with GracefulShutdown.Testing: a rolling update of their own app (its Program, started in process as
/// WebApplicationFactory starts it) under load, with the package's defaults (2 replicas, 1 round, 100 requests/s).
/// </summary>
public sealed class RollingUpdateTests(ITestOutputHelper output)
{
    [Fact]
    public async Task WithoutTheLibrary_TheRolloutLosesRequests()
    {
        RolloutReport report = await RunAsync(useLibrary: false);

        Assert.False(report.IsZeroDowntime, report.ToString());
        Assert.True(report.Failed > 0, report.ToString());
    }

    [Fact]
    public async Task WithTheLibrary_TheRolloutLosesNothing()
    {
        RolloutReport report = await RunAsync(useLibrary: true);

        Assert.True(report.IsZeroDowntime, report.ToString());
        Assert.Equal(0, report.Failed);
        Assert.Equal(report.Sent, report.Succeeded);
    }

    private async Task<RolloutReport> RunAsync(bool useLibrary)
    {
        var started = Stopwatch.StartNew();
        RolloutReport report = await Rollout.RunAsync<Program>(new RolloutOptions
        {
            ConfigureReplica = b => b.UseSetting("Consumer:UseLibrary", useLibrary ? "true" : "false")
                .UseSetting("Logging:LogLevel:Default", "Warning"),
        });
        output.WriteLine($"{(useLibrary ? "library" : "plain")} app, rollout run time {started.Elapsed.TotalSeconds:0.00} s:");
        output.WriteLine(report.ToString());
        return report;
    }
}
