extern alias Sample;

using Microsoft.AspNetCore.Hosting;
using Xunit.Abstractions;

namespace GracefulShutdown.Testing.Tests;

/// <summary>
/// The library's sample through a simulated rolling update, the way a user runs the package against their own app: without the
/// library it loses requests, with the library's defaults it loses nothing. Real sockets and hosts in process; each run is bounded
/// (2 replicas x 1 round, at most the grace period per replica).
/// </summary>
[Trait("Category", "Process")]
public class SampleRolloutTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_plain_app_loses_requests_when_it_is_rolled_out()
    {
        RolloutReport report = await Rollout.RunAsync<Sample::Program>(new RolloutOptions
        {
            ConfigureReplica = static b => b.UseSetting("Sample:UseLibrary", "false").UseSetting("Logging:LogLevel:Default", "Warning"),
        });
        output.WriteLine(report.ToString());

        Assert.False(report.IsZeroDowntime);
        Assert.True(report.Failed > 0);
        Assert.Equal(report.Sent, report.Succeeded + report.Failed);
        Assert.Equal(2, report.Terminated.Count);
        Assert.All(report.Terminated, r => Assert.Equal(404, r.PreStopStatusCode));
    }

    [Fact]
    public async Task The_library_app_loses_nothing_with_the_defaults()
    {
        RolloutReport report = await Rollout.RunAsync<Sample::Program>(new RolloutOptions
        {
            ConfigureReplica = static b => b.UseSetting("Logging:LogLevel:Default", "Warning"),
        });
        output.WriteLine(report.ToString());

        Assert.True(report.IsZeroDowntime, report.ToString());
        Assert.True(report.Sent > 0);
        Assert.Equal(2, report.Terminated.Count);
        Assert.All(report.Terminated, r =>
        {
            Assert.Equal(200, r.PreStopStatusCode);
            Assert.False(r.Killed);
            Assert.True(r.ServedAfterTerminationBegan > 0, "the replica keeps serving while the balancer still routes to it");
        });
    }
}
