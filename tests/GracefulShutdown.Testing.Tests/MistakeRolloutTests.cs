using GracefulShutdown.Testing.TestApp;
using Microsoft.AspNetCore.Hosting;
using Xunit.Abstractions;

namespace GracefulShutdown.Testing.Tests;

/// <summary>
/// Mistakes the package must catch, each in an app that uses the library: the report must show what they cost. Real sockets and
/// hosts in process; 2 replicas x 1 round each, bounded by the grace period.
/// </summary>
[Trait("Category", "Process")]
public class MistakeRolloutTests(ITestOutputHelper output)
{
    private static Action<IWebHostBuilder> Settings(params (string Key, string Value)[] settings) => builder =>
    {
        foreach ((string key, string value) in settings)
        {
            builder.UseSetting(key, value);
        }
    };

    [Fact]
    public async Task A_handler_that_outlives_the_drain_shows_aborted_requests()
    {
        // /slow ignores DrainDeadline and RequestAborted: 9 s of work against a traffic wait of at most 6 s and a 2 s drain, so
        // every request sent to a replica after its termination began is still running when the drain ends.
        RolloutReport report = await Rollout.RunAsync<TestAppEntry>(new RolloutOptions
        {
            Path = "/slow?ms=9000",
            RequestsPerSecond = 20,
            ConfigureReplica = Settings(("GracefulShutdown:DrainTimeout", "00:00:02"), ("GracefulShutdown:DrainCancellationLead", "00:00:01"),
                ("GracefulShutdown:TrafficWait:Maximum", "00:00:06")),
        });
        output.WriteLine(report.ToString());

        Assert.False(report.IsZeroDowntime);
        Assert.Contains(report.FailuresByKind.Keys, kind => kind.StartsWith("HTTP 502 (balancer: Request", StringComparison.Ordinal)
            || kind.StartsWith("transport:", StringComparison.Ordinal));
        Assert.Contains(report.Terminated, r => r.FailedAfterTerminationBegan > 0);
        Assert.All(report.Terminated, r => Assert.False(r.Killed));
    }

    [Fact]
    public async Task The_same_app_whose_handlers_finish_within_the_drain_loses_nothing()
    {
        RolloutReport report = await Rollout.RunAsync<TestAppEntry>(new RolloutOptions
        {
            Path = "/slow?ms=500",
            RequestsPerSecond = 20,
            ConfigureReplica = Settings(("GracefulShutdown:DrainTimeout", "00:00:02"), ("GracefulShutdown:DrainCancellationLead", "00:00:01"),
                ("GracefulShutdown:TrafficWait:Maximum", "00:00:06")),
        });
        output.WriteLine(report.ToString());

        Assert.True(report.IsZeroDowntime, report.ToString());
    }

    [Fact]
    public async Task A_readiness_check_that_fails_during_the_drain_shows_what_it_cost()
    {
        // Every replica's readiness depends on a shared dependency that goes down for 3 s when the first drain begins: the
        // health-checked balancer takes every replica out of rotation, new ones included, and the load gets 503s.
        RolloutReport report = await Rollout.RunAsync<TestAppEntry>(new RolloutOptions
        {
            Balancer = RolloutBalancer.HealthChecked,
            HealthCheckInterval = TimeSpan.FromMilliseconds(250),
            HealthCheckThreshold = 2,
            ConfigureReplica = Settings(("TestApp:DependencyCheck", "true"), ("TestApp:OutageMs", "3000")),
        });
        output.WriteLine(report.ToString());

        Assert.False(report.IsZeroDowntime);
        Assert.True(report.FailuresByKind.TryGetValue("HTTP 503 (balancer: no replica in rotation)", out long unrouted) && unrouted > 0,
            report.ToString());
    }

    [Fact]
    public async Task A_replica_still_running_at_the_grace_period_is_killed_and_its_requests_aborted()
    {
        // A plain app waits for its in-flight requests (the host's 30 s stop timeout); 8 s handlers outlast a 3 s grace period.
        RolloutReport report = await Rollout.RunAsync<TestAppEntry>(new RolloutOptions
        {
            Path = "/slow?ms=8000",
            RequestsPerSecond = 10,
            TerminationGracePeriod = TimeSpan.FromSeconds(3),
            SteadyLoad = TimeSpan.FromMilliseconds(500),
            ConfigureReplica = Settings(("TestApp:UseLibrary", "false")),
        });
        output.WriteLine(report.ToString());

        Assert.False(report.IsZeroDowntime);
        Assert.All(report.Terminated, r =>
        {
            Assert.True(r.Killed);
            Assert.Null(r.StoppedAfter);
        });
        Assert.Contains(report.FailuresByKind.Keys, kind => kind.StartsWith("transport:", StringComparison.Ordinal)
            || kind.StartsWith("HTTP 502", StringComparison.Ordinal));
    }
}
