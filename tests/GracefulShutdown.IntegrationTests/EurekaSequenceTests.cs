using System.Diagnostics;
using System.Net;
using System.Text.Json;
using GracefulShutdown.Eureka.Testing;
using Xunit.Abstractions;

namespace GracefulShutdown.IntegrationTests;

/// <summary>The sample as a real process, registered with the in-process Eureka stand-in, through its whole lifecycle.</summary>
[Trait("Category", "Process")]
[Collection(ProcessCollection.Name)]
public sealed class EurekaSequenceTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private static string[] Arguments(EurekaServerStandIn eureka, params string[] more) =>
    [
        $"--eureka:client:serviceUrl={eureka.BaseUri}",
        "--eureka:instance:appName=sample",
        "--eureka:instance:instanceId=sample-1",
        "--eureka:instance:leaseRenewalIntervalInSeconds=1",
        "--eureka:client:requestTimeoutSeconds=2",
        "--eureka:client:retryMaximumIntervalSeconds=1",
        "--GracefulShutdown:TrafficWait:Minimum=00:00:02.500",
        "--GracefulShutdown:TrafficWait:QuietPeriod=00:00:00.500",
        "--GracefulShutdown:TrafficWait:Maximum=00:00:05",
        .. more,
    ];

    private static string? Status(EurekaCall call) =>
        call.RequestBody is null ? null : JsonDocument.Parse(call.RequestBody).RootElement.GetProperty("instance").GetProperty("status").GetString();

    private static bool IsRegister(EurekaCall call, string status) =>
        call.Operation == EurekaOperation.Register && call.StatusCode == 204 && Status(call) == status;

    private void Print(EurekaServerStandIn eureka)
    {
        DateTimeOffset start = eureka.Calls.Count > 0 ? eureka.Calls[0].ReceivedAt : default;
        foreach (EurekaCall call in eureka.Calls)
        {
            string status = call.Operation == EurekaOperation.Register ? $" [{Status(call)}]" : "";
            output.WriteLine($"+{(call.ReceivedAt - start).TotalMilliseconds,7:0} ms  {call.Method,-6} {call.Path}{call.Query}{status} -> {call.StatusCode}");
        }
    }

    [Fact]
    public async Task FullSequence_RegisterUpHeartbeatOutOfServiceWhileServingThenDelete()
    {
        await using EurekaServerStandIn eureka = await EurekaServerStandIn.StartAsync();
        await using SampleProcess app = await SampleProcess.StartAsync(Arguments(eureka));
        using HttpClient client = SampleProcess.CreateClient(app.BaseAddress!);

        await eureka.WaitForCallAsync(c => IsRegister(c, "UP"), Wait);
        await eureka.WaitForCallAsync(c => c.Operation == EurekaOperation.Heartbeat && c.StatusCode == 200, Wait);
        Assert.Equal("UP", eureka.GetInstance("SAMPLE", "sample-1")!.Status);

        var stopwatch = Stopwatch.StartNew();
        app.Signal(SampleProcess.SIGTERM);
        EurekaCall outOfService = await eureka.WaitForCallAsync(c => c.Operation == EurekaOperation.StatusOverride, Wait);
        HttpResponseMessage whileOutOfService = await client.GetAsync("work?ms=10");
        string statusWhileDraining = eureka.GetInstance("SAMPLE", "sample-1")!.Status;
        int exitCode = await app.WaitForExitAsync();
        stopwatch.Stop();
        Print(eureka);

        Assert.Equal(0, exitCode);
        Assert.Equal(HttpStatusCode.OK, whileOutOfService.StatusCode);
        Assert.Equal("OUT_OF_SERVICE", statusWhileDraining);
        Assert.Equal(200, outOfService.StatusCode);
        Assert.Equal("PUT", outOfService.Method);
        Assert.Equal("/eureka/apps/SAMPLE/sample-1/status", outOfService.Path);
        Assert.StartsWith("?value=OUT_OF_SERVICE&lastDirtyTimestamp=", outOfService.Query, StringComparison.Ordinal);

        EurekaCall[] calls = [.. eureka.Calls];
        int starting = Array.FindIndex(calls, c => IsRegister(c, "STARTING"));
        int up = Array.FindIndex(calls, c => IsRegister(c, "UP"));
        int firstHeartbeat = Array.FindIndex(calls, c => c.Operation == EurekaOperation.Heartbeat);
        int overrideAt = Array.FindIndex(calls, c => c.Operation == EurekaOperation.StatusOverride);
        int delete = Array.FindIndex(calls, c => c.Operation == EurekaOperation.Cancel);
        Assert.True(starting == 0, $"STARTING first: {string.Join(", ", calls.Select(c => c.ToString()))}");
        Assert.True(starting < up && up < firstHeartbeat && firstHeartbeat < overrideAt && overrideAt < delete);
        Assert.Contains(calls[(overrideAt + 1)..delete], c => c.Operation == EurekaOperation.Heartbeat && c.StatusCode == 200);
        Assert.DoesNotContain(calls[overrideAt..], c => c.Operation == EurekaOperation.Register);
        Assert.Equal(delete, calls.Length - 1);
        Assert.Equal("DELETE", calls[delete].Method);
        Assert.Equal("/eureka/apps/SAMPLE/sample-1", calls[delete].Path);
        Assert.Equal(200, calls[delete].StatusCode);
        Assert.Null(eureka.GetInstance("SAMPLE", "sample-1"));

        using JsonDocument register = JsonDocument.Parse(calls[up].RequestBody!);
        JsonElement instance = register.RootElement.GetProperty("instance");
        Assert.Equal("SAMPLE", instance.GetProperty("app").GetString());
        Assert.Equal("sample-1", instance.GetProperty("instanceId").GetString());
        Assert.Equal(app.BaseAddress!.Port, instance.GetProperty("port").GetProperty("$").GetInt32());
        Assert.Equal("true", instance.GetProperty("port").GetProperty("@enabled").GetString());
        output.WriteLine($"SIGTERM to exit with Eureka: {stopwatch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task CachedViewTurnsOver_TheTrafficWaitEndsAtTheRegistrysBound_NotAtMaximum()
    {
        // The server's response cache refreshes every 2 s; callers fetch every 1 s and cache for 1 s. A replica with no traffic and a
        // short history would otherwise wait for Maximum (20 s).
        await using EurekaServerStandIn eureka = await EurekaServerStandIn.StartAsync(null, TimeSpan.FromSeconds(2));
        await using SampleProcess app = await SampleProcess.StartAsync(Arguments(eureka,
            "--GracefulShutdown:TrafficWait:Maximum=00:00:20", "--GracefulShutdown:TerminationGracePeriod=00:00:40",
            "--eureka:client:cachedViewPollSeconds=1", "--eureka:client:callerFetchIntervalSeconds=1", "--eureka:client:callerLoadBalancerCacheSeconds=1"));
        await eureka.WaitForCallAsync(c => IsRegister(c, "UP"), Wait);
        await eureka.WaitForCallAsync(c => c.Operation == EurekaOperation.GetApplication && c.StatusCode == 200, Wait); // the key, warmed

        var stopwatch = Stopwatch.StartNew();
        app.Signal(SampleProcess.SIGTERM);
        int exitCode = await app.WaitForExitAsync();
        stopwatch.Stop();
        Print(eureka);
        output.WriteLine(string.Join('\n', app.Lines.Where(l => l.Contains("Eureka's cached view", StringComparison.Ordinal)
            || l.Contains("Traffic wait ended", StringComparison.Ordinal))));

        Assert.Equal(0, exitCode);
        Assert.True(app.HasEvent(220), app.Output);
        Assert.True(app.HasEvent(102, "(RoutesLetGo)"), app.Output);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(15), $"{stopwatch.Elapsed} to exit; Maximum is 20 s");
    }

    [Fact]
    public async Task CachedViewHangsDuringTheDrain_NoBound_TheWaitEndsAtMaximumAsWithoutIt()
    {
        await using EurekaServerStandIn eureka = await EurekaServerStandIn.StartAsync(null, TimeSpan.FromSeconds(2));
        await using SampleProcess app = await SampleProcess.StartAsync(Arguments(eureka, "--eureka:client:cachedViewPollSeconds=1"));
        await eureka.WaitForCallAsync(c => IsRegister(c, "UP"), Wait);
        await eureka.WaitForCallAsync(c => c.Operation == EurekaOperation.GetApplication && c.StatusCode == 200, Wait);
        using EurekaHang hang = eureka.HangNext(EurekaOperation.GetApplication, times: 100);

        var stopwatch = Stopwatch.StartNew();
        app.Signal(SampleProcess.SIGTERM);
        await hang.WhenHeld.WaitAsync(Wait);
        int exitCode = await app.WaitForExitAsync(TimeSpan.FromSeconds(30));
        stopwatch.Stop();
        Print(eureka);

        Assert.Equal(0, exitCode);
        Assert.True(app.HasEvent(102, "(MaximumReached)"), app.Output); // Maximum is 5 s here, as without the reads
        Assert.True(app.HasEvent(221), app.Output);
        Assert.False(app.HasEvent(220), app.Output);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(15), $"{stopwatch.Elapsed} to exit");
    }

    [Fact]
    public async Task PreStop_TakesTheInstanceOutOfServiceBeforeAnswering()
    {
        await using EurekaServerStandIn eureka = await EurekaServerStandIn.StartAsync();
        await using SampleProcess app = await SampleProcess.StartAsync(Arguments(eureka));
        using HttpClient client = SampleProcess.CreateClient(app.BaseAddress!);
        await eureka.WaitForCallAsync(c => IsRegister(c, "UP"), Wait);

        HttpResponseMessage preStop = await client.GetAsync("lifecycle/prestop");
        string status = eureka.GetInstance("SAMPLE", "sample-1")!.Status;
        app.Signal(SampleProcess.SIGTERM);

        Assert.Equal(HttpStatusCode.OK, preStop.StatusCode);
        Assert.Equal("OUT_OF_SERVICE", status);
        Assert.Equal(0, await app.WaitForExitAsync());
        await eureka.WaitForCallAsync(c => c.Operation == EurekaOperation.Cancel && c.StatusCode == 200, Wait);
        Print(eureka);
    }

    [Fact]
    public async Task EurekaUnreachableAtStartup_AppIsReady_RegistersWhenEurekaComesBack()
    {
        await using EurekaServerStandIn eureka = await EurekaServerStandIn.StartAsync();
        await eureka.StopListeningAsync();
        await using SampleProcess app = await SampleProcess.StartAsync(Arguments(eureka));
        using HttpClient client = SampleProcess.CreateClient(app.BaseAddress!);
        await app.WaitForEventAsync(5);

        HttpResponseMessage ready = await client.GetAsync("health/ready");
        await app.WaitForEventAsync(204); // registration failed, retrying
        await eureka.ResumeListeningAsync();
        await eureka.WaitForCallAsync(c => IsRegister(c, "UP"), Wait);
        app.Signal(SampleProcess.SIGTERM);

        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal(0, await app.WaitForExitAsync());
        Print(eureka);
    }

    [Fact]
    public async Task EurekaHangingDuringDrain_ProcessStillExitsInsideTheGracePeriod()
    {
        await using EurekaServerStandIn eureka = await EurekaServerStandIn.StartAsync();
        await using SampleProcess app = await SampleProcess.StartAsync(Arguments(eureka));
        await eureka.WaitForCallAsync(c => IsRegister(c, "UP"), Wait);
        using EurekaHang overrideHang = eureka.HangNext(EurekaOperation.StatusOverride, times: 100);
        using EurekaHang heartbeatHang = eureka.HangNext(EurekaOperation.Heartbeat, times: 100);
        using EurekaHang deleteHang = eureka.HangNext(EurekaOperation.Cancel, times: 100);

        app.Signal(SampleProcess.SIGTERM);
        await overrideHang.WhenHeld.WaitAsync(Wait);

        // The grace period (30 s) is the bound: a process still running then would be SIGKILLed by kubelet.
        int exitCode = await app.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(0, exitCode);
        Assert.True(deleteHang.HeldCount >= 1);
        Assert.True(app.HasEvent(212, "TimedOut"), app.Output); // deregistration gave up within the stop budget
        Assert.True(app.HasEvent(106), app.Output);
    }

    [Fact]
    public async Task HeartbeatNotFound_ReRegisters()
    {
        await using EurekaServerStandIn eureka = await EurekaServerStandIn.StartAsync();
        await using SampleProcess app = await SampleProcess.StartAsync(Arguments(eureka));
        EurekaCall firstUp = await eureka.WaitForCallAsync(c => IsRegister(c, "UP"), Wait);

        Assert.True(eureka.EvictLease("SAMPLE", "sample-1"));
        EurekaCall notFound = await eureka.WaitForCallAsync(c => c.Operation == EurekaOperation.Heartbeat && c.StatusCode == 404, Wait);
        EurekaCall again = await eureka.WaitForCallAsync(c => c.Sequence > notFound.Sequence && IsRegister(c, "UP"), Wait);
        EurekaCall heartbeat = await eureka.WaitForCallAsync(c => c.Sequence > again.Sequence && c.Operation == EurekaOperation.Heartbeat, Wait);
        app.Signal(SampleProcess.SIGTERM);

        Assert.True(firstUp.Sequence < notFound.Sequence);
        Assert.Equal(200, heartbeat.StatusCode);
        Assert.Equal(0, await app.WaitForExitAsync());
        Print(eureka);
    }
}
