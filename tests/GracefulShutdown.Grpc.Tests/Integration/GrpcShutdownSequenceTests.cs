using System.Diagnostics;
using GracefulShutdown.GrpcSample;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace GracefulShutdown.Grpc.Tests.Integration;

/// <summary>
/// The gRPC sample as a real process, called by the real Grpc.Net.Client over plaintext HTTP/2, stopped with real signals.
/// </summary>
[Collection(ProcessCollection.Name)]
[Trait("Category", "Process")]
public sealed class GrpcShutdownSequenceTests
{
    // A short traffic wait keeps the tests quick; the sequence is the same as with the defaults.
    private static readonly string[] ShortWait =
    [
        "--GracefulShutdown:TrafficWait:Minimum=00:00:01",
        "--GracefulShutdown:TrafficWait:QuietPeriod=00:00:00.500",
        "--GracefulShutdown:TrafficWait:Maximum=00:00:05",
    ];

    [Fact]
    public async Task Check_answers_for_the_lifecycle_and_unary_calls_succeed_during_the_wait_on_new_connections()
    {
        await using SampleProcess sample = await SampleProcess.StartAsync(ShortWait);
        var connections = new SampleProcess.ConnectionCounter();
        using GrpcChannel channel = SampleProcess.CreateChannel(sample.BaseAddress!, connections);
        var health = new Health.HealthClient(channel);
        var greeter = new Greeter.GreeterClient(channel);

        Assert.Equal(ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest { Service = "" })).Status);
        Assert.Equal(ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest { Service = "readiness" })).Status);
        Assert.Equal(ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest { Service = "liveness" })).Status);
        Assert.Equal(ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest { Service = "startup" })).Status);
        Assert.Equal("Hello before", (await greeter.SayHelloAsync(new HelloRequest { Name = "before" })).Message);
        Assert.Equal(1, connections.Count);

        sample.Signal(SampleProcess.SIGTERM);
        // Event 401 logs the service and its status: readiness was NotServing before the app turned ready, and is again now.
        int readinessNotServing = 0;
        await sample.WaitForLineAsync(l => SampleProcess.IsLibraryEvent(l, 401) && l.Contains("readiness", StringComparison.Ordinal) &&
            l.Contains(nameof(ServingStatus.NotServing), StringComparison.Ordinal) && ++readinessNotServing == 2);

        Assert.Equal(ServingStatus.NotServing, (await health.CheckAsync(new HealthCheckRequest { Service = "" })).Status);
        Assert.Equal(ServingStatus.NotServing, (await health.CheckAsync(new HealthCheckRequest { Service = "readiness" })).Status);
        Assert.Equal(ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest { Service = "liveness" })).Status);
        Assert.Equal(ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest { Service = "startup" })).Status);

        // The connection from before the drain gets GOAWAY with its next response, so the client reconnects (behind a balancer,
        // elsewhere). A connection opened during the drain was routed here by a balancer that still sends traffic: it is not
        // closed again (that would only churn back to this replica), so the next calls share it.
        int before = connections.Count;
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal($"Hello during {i}", (await greeter.SayHelloAsync(new HelloRequest { Name = $"during {i}" })).Message);
        }

        Assert.False(sample.HasEvent(102), "the calls ran after the traffic wait:\n" + sample.Output);
        Assert.True(connections.Count == before + 1, $"expected one new connection after GOAWAY; {before} before, {connections.Count} after");
        Assert.Equal(0, await sample.WaitForExitAsync());
    }

    [Fact]
    public async Task Watch_gets_NOT_SERVING_pushed_at_drain_start_and_ends_with_UNAVAILABLE_after_the_wait()
    {
        await using SampleProcess sample = await SampleProcess.StartAsync(ShortWait);
        using GrpcChannel channel = SampleProcess.CreateChannel(sample.BaseAddress!);
        var health = new Health.HealthClient(channel);

        using AsyncServerStreamingCall<HealthCheckResponse> watch = health.Watch(new HealthCheckRequest { Service = "" });
        Assert.True(await watch.ResponseStream.MoveNext());
        Assert.Equal(ServingStatus.Serving, watch.ResponseStream.Current.Status);

        long signaled = Stopwatch.GetTimestamp();
        sample.Signal(SampleProcess.SIGTERM);
        Assert.True(await watch.ResponseStream.MoveNext());
        TimeSpan latency = Stopwatch.GetElapsedTime(signaled);
        Assert.Equal(ServingStatus.NotServing, watch.ResponseStream.Current.Status);

        // Pushed by the drain itself, not by a refresh or publisher tick: it arrives before the traffic wait could end.
        Assert.False(sample.HasEvent(102), $"NOT_SERVING came after the wait ({latency}):\n{sample.Output}");
        Console.WriteLine($"Watch: NOT_SERVING {latency.TotalMilliseconds:F1} ms after SIGTERM");

        var ended = await Assert.ThrowsAsync<RpcException>(() => watch.ResponseStream.MoveNext());
        Assert.Equal(StatusCode.Unavailable, ended.StatusCode);
        Assert.Equal(0, await sample.WaitForExitAsync());
    }

    [Fact]
    public async Task Stream_open_at_SIGTERM_ends_with_UNAVAILABLE_when_the_wait_is_over_and_the_process_exits_without_the_drain_timeout()
    {
        await using SampleProcess sample = await SampleProcess.StartAsync(
            [.. ShortWait, "--Logging:LogLevel:GracefulShutdown=Debug"]);
        using GrpcChannel channel = SampleProcess.CreateChannel(sample.BaseAddress!);
        var greeter = new Greeter.GreeterClient(channel);

        using AsyncServerStreamingCall<Tick> stream = greeter.StreamTicks(new TickRequest { Count = 0, IntervalMs = 20 });
        Assert.True(await stream.ResponseStream.MoveNext());
        Assert.Equal(1, stream.ResponseStream.Current.N);

        long signaled = Stopwatch.GetTimestamp();
        sample.Signal(SampleProcess.SIGTERM);
        Task<int> exited = sample.WaitForExitAsync();

        var ended = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await stream.ResponseStream.MoveNext())
            {
            }
        });
        TimeSpan endedAfter = Stopwatch.GetElapsedTime(signaled);
        // The server ended the stream before it began its own stop (the order of its log lines, not of what reaches the test).
        List<string> lines = [.. sample.Lines];
        int streamEnded = SampleProcess.IndexOfEvent(lines, 402);
        int serverStopped = SampleProcess.IndexOfEvent(lines, 103);
        Assert.True(streamEnded >= 0 && (serverStopped < 0 || streamEnded < serverStopped), "the stream must end before the server stops:\n" + sample.Output);
        Assert.Equal(StatusCode.Unavailable, ended.StatusCode);
        Assert.Contains("shutting down", ended.Status.Detail, StringComparison.Ordinal);
        string waitEnded = await sample.WaitForEventAsync(102);

        Assert.Equal(0, await exited);
        TimeSpan exitAfter = Stopwatch.GetElapsedTime(signaled);
        double waitSeconds = TrafficWaitSeconds(waitEnded);
        Console.WriteLine($"Stream: UNAVAILABLE {endedAfter.TotalSeconds:F3} s after SIGTERM; traffic wait {waitSeconds:F3} s; exit {exitAfter.TotalSeconds:F3} s");

        // Without ending the stream the server drain would hold the process until the drain timeout (10 s) aborted it.
        Assert.DoesNotContain(sample.Lines, l => SampleProcess.IsLibraryEvent(l, 105));
        Assert.Contains(sample.Lines, l => SampleProcess.IsLibraryEvent(l, 402) && l.Contains("/greet.Greeter/StreamTicks", StringComparison.Ordinal));
        Assert.True(endedAfter.TotalSeconds >= waitSeconds - 0.05, $"the stream ended {endedAfter} after SIGTERM, before the {waitSeconds} s wait was over");
        // The goal (exit within wait + 1 s) is measured by build/grpc-rollout on a quiet machine; here the bound only tells the
        // stream's end apart from an abort at the drain timeout (10 s), however loaded the machine is.
        Assert.True(exitAfter.TotalSeconds < waitSeconds + 5, $"exit {exitAfter} after SIGTERM; the wait took {waitSeconds} s\n{sample.Output}");
    }

    [Fact]
    public async Task Service_names_bind_from_the_GracefulShutdown_Grpc_section()
    {
        await using SampleProcess sample = await SampleProcess.StartAsync([.. ShortWait, "--GracefulShutdown:Grpc:ReadinessService=greet.Greeter"]);
        using GrpcChannel channel = SampleProcess.CreateChannel(sample.BaseAddress!);
        var health = new Health.HealthClient(channel);

        Assert.Equal(ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest { Service = "greet.Greeter" })).Status);
        sample.Signal(SampleProcess.SIGTERM);
        Assert.Equal(0, await sample.WaitForExitAsync());
    }

    // Event 102's elapsed seconds, the first number its message logs after the event id (the outcome before it has none): 1.502.
    private static double TrafficWaitSeconds(string line)
    {
        Assert.True(SampleProcess.IsLibraryEvent(line, 102), "not event 102: " + line);
        System.Text.RegularExpressions.Match match = System.Text.RegularExpressions.Regex.Match(line, @"\[102\]\D*(\d+(\.\d+)?) ?s\b");
        Assert.True(match.Success, "no elapsed seconds in event 102: " + line);
        return double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }
}
