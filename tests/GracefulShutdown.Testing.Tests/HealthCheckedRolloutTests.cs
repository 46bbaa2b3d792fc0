extern alias Sample;

using Microsoft.AspNetCore.Hosting;
using Xunit.Abstractions;

namespace GracefulShutdown.Testing.Tests;

/// <summary>The health-checked balancer, two rounds, POST requests from a factory and WebSocket clients, against the library's sample.</summary>
[Trait("Category", "Process")]
public class HealthCheckedRolloutTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_library_app_loses_nothing_in_two_rounds_behind_a_health_checked_balancer_with_POSTs_and_WebSocket_clients()
    {
        RolloutReport report = await Rollout.RunAsync<Sample::Program>(new RolloutOptions
        {
            Rounds = 2,
            Balancer = RolloutBalancer.HealthChecked,
            CreateRequest = static () => new HttpRequestMessage(HttpMethod.Post, "/orders?ms=20") { Content = new StringContent("{}") },
            HealthCheckInterval = TimeSpan.FromMilliseconds(500),
            WebSocketPath = "/ws",
            WebSocketClients = 4,
            ConfigureReplica = static b => b.UseSetting("Logging:LogLevel:Default", "Warning"),
        });
        output.WriteLine(report.ToString());

        Assert.True(report.IsZeroDowntime, report.ToString());
        Assert.Equal(4, report.Terminated.Count);
        Assert.True(report.WebSocketConnections > 4, "the clients reconnected after the 1001 closes");
        Assert.True(report.WebSocketCloses.TryGetValue("close 1001", out long goingAway) && goingAway > 0, report.ToString());
    }
}
