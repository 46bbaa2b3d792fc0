using GracefulShutdown.Testing.Harness;

namespace GracefulShutdown.Testing.Tests;

public class RolloutReportTests
{
    private static RolloutReport Report(long failed, IReadOnlyDictionary<string, long> kinds, params ReplicaReport[] replicas) =>
        new(new RolloutOptions(), TimeSpan.FromSeconds(12.5), 1000, 1000 - failed, failed, kinds, 0, 0, new Dictionary<string, long>(), replicas);

    [Fact]
    public void A_clean_rollout_reads_zero_downtime()
    {
        RolloutReport report = Report(0, new Dictionary<string, long>(),
            new ReplicaReport("replica-1", 200, null, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5.25), false, 180, 0));

        Assert.True(report.IsZeroDowntime);
        string text = report.ToString();
        Assert.Contains("Rollout: 2 replicas x 1 round(s), removal lag 2.00 s, 100 req/s, 12.50 s", text, StringComparison.Ordinal);
        Assert.Contains("ZERO DOWNTIME: sent 1000, succeeded 1000, failed 0 (0 %)", text, StringComparison.Ordinal);
        Assert.Contains("replica-1: preStop 200, out of rotation 2.00 s, stopped 5.25 s after termination began; served 180, failed 0 after it began",
            text, StringComparison.Ordinal);
    }

    [Fact]
    public void Failures_are_listed_by_kind_most_frequent_first()
    {
        RolloutReport report = Report(64, new Dictionary<string, long> { ["transport: ResponseEnded"] = 4, ["HTTP 502 (balancer: Request)"] = 60 },
            new ReplicaReport("replica-2", null, "failed (ConnectionError)", null, null, true, 3, 64));

        Assert.False(report.IsZeroDowntime);
        string[] lines = report.ToString().Split(Environment.NewLine);
        Assert.Contains("FAILURES: sent 1000, succeeded 936, failed 64 (6.4 %)", lines[1], StringComparison.Ordinal);
        Assert.EndsWith("60  HTTP 502 (balancer: Request)", lines[2], StringComparison.Ordinal);
        Assert.EndsWith("4  transport: ResponseEnded", lines[3], StringComparison.Ordinal);
        Assert.Contains("replica-2: preStop failed (ConnectionError), out of rotation never, KILLED at the grace period", lines[4], StringComparison.Ordinal);
    }

    [Fact]
    public void WebSocket_ends_are_shown_when_clients_ran()
    {
        var options = new RolloutOptions { WebSocketPath = "/ws", WebSocketClients = 4 };
        var report = new RolloutReport(options, TimeSpan.FromSeconds(1), 10, 10, 0, new Dictionary<string, long> { ["WebSocket aborted (no close frame)"] = 1 },
            6, 1, new Dictionary<string, long> { ["close 1001"] = 1, ["aborted"] = 1 }, []);

        string text = report.ToString();

        Assert.False(report.IsZeroDowntime);
        Assert.Contains("WebSocket connections 6, failed 1", text, StringComparison.Ordinal);
        Assert.Contains("WebSocket ends: aborted x1, close 1001 x1", text, StringComparison.Ordinal);
    }

    [Fact]
    public void The_failure_counter_counts_by_kind_from_many_threads()
    {
        var counter = new FailureCounter();

        Parallel.For(0, 1000, i => counter.Add(i % 2 == 0 ? "a" : "b"));

        Assert.Equal(500, counter.Snapshot()["a"]);
        Assert.Equal(500, counter.Snapshot()["b"]);
    }

    [Fact]
    public void A_transport_error_is_named_by_its_innermost_cause_when_unclassified()
    {
        var reset = new HttpRequestException("copy failed", new IOException("reset",
            new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionReset)));

        Assert.Equal("Unknown (ConnectionReset)", HttpLoad.Describe(reset));
        Assert.Equal("ResponseEnded", HttpLoad.Describe(new HttpRequestException(HttpRequestError.ResponseEnded)));
        Assert.Equal("Unknown (IOException)", HttpLoad.Describe(new HttpRequestException("x", new IOException("y"))));
    }
}
