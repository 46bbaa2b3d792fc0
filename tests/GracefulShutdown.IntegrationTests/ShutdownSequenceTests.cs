using System.Diagnostics;
using System.Net;
using Xunit.Abstractions;

namespace GracefulShutdown.IntegrationTests;

/// <summary>The whole sequence with the sample as a real child process, real Kestrel on 127.0.0.1 and real signals.</summary>
[Trait("Category", "Process")]
[Collection(ProcessCollection.Name)]
public sealed class ShutdownSequenceTests(ITestOutputHelper output)
{
    private static readonly string[] FastWait =
    [
        "--GracefulShutdown:TrafficWait:Minimum=00:00:00.300",
        "--GracefulShutdown:TrafficWait:QuietPeriod=00:00:00.300",
        "--GracefulShutdown:TrafficWait:Maximum=00:00:03",
    ];

    // A wait that would outlast every test timeout: only a skip can end it in time.
    private static readonly string[] EndlessWait =
    [
        "--GracefulShutdown:TrafficWait:Minimum=00:01:00",
        "--GracefulShutdown:TrafficWait:Maximum=00:01:30",
        "--GracefulShutdown:TerminationGracePeriod=00:03:00",
    ];

    [Fact]
    public async Task SigTerm_WithRequestInFlight_RequestCompletesAndExitCodeIsZero()
    {
        await using SampleProcess app = await SampleProcess.StartAsync(FastWait);
        using HttpClient client = SampleProcess.CreateClient(app.BaseAddress!);
        Task<HttpResponseMessage> inFlight = client.GetAsync("work?ms=1500");
        await app.WaitForLineAsync(l => l.Contains("Work of 1500 ms started", StringComparison.Ordinal));

        var stopwatch = Stopwatch.StartNew();
        app.Signal(SampleProcess.SIGTERM);
        HttpResponseMessage response = await inFlight;
        int exitCode = await app.WaitForExitAsync();
        stopwatch.Stop();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("worked 1500 ms\n", await response.Content.ReadAsStringAsync());
        Assert.Equal(0, exitCode);
        Assert.Matches(@"\bSigTerm\b.*\b1\b", await app.WaitForEventAsync(100)); // trigger and in-flight count
        Assert.True(app.HasEvent(104), app.Output);
        output.WriteLine($"SIGTERM to exit with a 1500 ms request in flight: {stopwatch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task SigTerm_Idle_ExitCodeIsZero()
    {
        await using SampleProcess app = await SampleProcess.StartAsync(FastWait);
        using HttpClient client = SampleProcess.CreateClient(app.BaseAddress!);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("health/ready")).StatusCode);

        var stopwatch = Stopwatch.StartNew();
        app.Signal(SampleProcess.SIGTERM);
        int exitCode = await app.WaitForExitAsync();
        stopwatch.Stop();

        Assert.Equal(0, exitCode);
        Assert.True(app.HasEvent(102), app.Output); // whatever ended the wait
        Assert.True(app.HasEvent(106), app.Output);
        output.WriteLine($"SIGTERM to exit, idle young replica (traffic wait minimum 300 ms, maximum 3 s): {stopwatch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task SigTerm_DuringTheWait_ServesWithConnectionClose_ReadinessDown_LivenessUp_SecondSigTermSkips()
    {
        await using SampleProcess app = await SampleProcess.StartAsync(EndlessWait);
        using HttpClient client = SampleProcess.CreateClient(app.BaseAddress!);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("health/ready")).StatusCode);

        app.Signal(SampleProcess.SIGTERM);
        await app.WaitForEventAsync(100, "SigTerm");
        HttpResponseMessage root = await client.GetAsync("");
        HttpResponseMessage work = await client.GetAsync("work?ms=20");
        HttpResponseMessage ready = await client.GetAsync("health/ready");
        HttpResponseMessage live = await client.GetAsync("health/live");

        Assert.Equal(HttpStatusCode.OK, root.StatusCode);
        Assert.True(root.Headers.ConnectionClose);
        Assert.Equal(HttpStatusCode.OK, work.StatusCode);
        Assert.True(work.Headers.ConnectionClose);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(0, app.CountEvents(102));

        app.Signal(SampleProcess.SIGTERM);
        Assert.Equal(0, await app.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        Assert.True(app.HasEvent(101, "SIGTERM"), app.Output);
        Assert.True(app.HasEvent(102, "(SkippedBySecondSignal)"), app.Output);
    }

    [Fact]
    public async Task PreStop_FromLoopback_AnswersAfterTheWait_ThenSigTermSkipsIt()
    {
        await using SampleProcess app = await SampleProcess.StartAsync(FastWait);
        using HttpClient client = SampleProcess.CreateClient(app.BaseAddress!);

        HttpResponseMessage preStop = await client.GetAsync("lifecycle/prestop");
        string body = await preStop.Content.ReadAsStringAsync();
        HttpResponseMessage ready = await client.GetAsync("health/ready");
        HttpResponseMessage root = await client.GetAsync("");
        var stopwatch = Stopwatch.StartNew();
        app.Signal(SampleProcess.SIGTERM);
        int exitCode = await app.WaitForExitAsync();
        stopwatch.Stop();

        Assert.Equal(HttpStatusCode.OK, preStop.StatusCode);
        Assert.StartsWith("Traffic wait over (", body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal(HttpStatusCode.OK, root.StatusCode);
        Assert.True(root.Headers.ConnectionClose);
        Assert.Equal(0, exitCode);
        Assert.True(app.HasEvent(100, "PreStop"), app.Output);
        Assert.True(app.HasEvent(300, "127.0.0.1"), app.Output);
        Assert.Equal(1, app.CountEvents(102));
        output.WriteLine($"SIGTERM to exit after the preStop wait: {stopwatch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task PreStop_WithManagementPort_AnswersOnlyThere()
    {
        await using SampleProcess app = await SampleProcess.StartWithManagementPortAsync(FastWait);
        using HttpClient appClient = SampleProcess.CreateClient(app.BaseAddress!);
        using HttpClient management = SampleProcess.CreateClient(app.ManagementAddress!);

        HttpResponseMessage preStopOnAppPort = await appClient.GetAsync("lifecycle/prestop");
        HttpResponseMessage readyOnAppPort = await appClient.GetAsync("health/ready");
        HttpResponseMessage readyStill = await management.GetAsync("health/ready");
        HttpResponseMessage preStop = await management.GetAsync("lifecycle/prestop?wait=false");
        HttpResponseMessage readyAfter = await management.GetAsync("health/ready");

        Assert.Equal(HttpStatusCode.NotFound, preStopOnAppPort.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, readyOnAppPort.StatusCode);
        Assert.Equal(HttpStatusCode.OK, readyStill.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, preStop.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, readyAfter.StatusCode);
        app.Signal(SampleProcess.SIGTERM);
        Assert.Equal(0, await app.WaitForExitAsync());
    }

    [Fact]
    public async Task PreStop_WithToken_RefusesAMissingTokenAndChangesNothing()
    {
        await using SampleProcess app = await SampleProcess.StartAsync([.. FastWait, "--GracefulShutdown:PreStop:Token=let-me-in"]);
        using HttpClient client = SampleProcess.CreateClient(app.BaseAddress!);

        HttpResponseMessage refused = await client.GetAsync("lifecycle/prestop");
        HttpResponseMessage readyStill = await client.GetAsync("health/ready");
        using var request = new HttpRequestMessage(HttpMethod.Get, "lifecycle/prestop");
        request.Headers.Add("X-PreStop-Token", "let-me-in");
        HttpResponseMessage accepted = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType!.MediaType);
        Assert.Equal(HttpStatusCode.OK, readyStill.StatusCode);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.True(app.HasEvent(301), app.Output);
        app.Signal(SampleProcess.SIGTERM);
        Assert.Equal(0, await app.WaitForExitAsync());
    }

    [Fact]
    public async Task SigInt_OutsideKubernetes_SkipsTheWait()
    {
        AssertSigIntReachesChildren();
        await using SampleProcess app = await SampleProcess.StartAsync(EndlessWait);

        app.Signal(SampleProcess.SIGINT);

        Assert.Equal(0, await app.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        Assert.True(app.HasEvent(102, "(SkippedOnLocalInterrupt)"), app.Output);
    }

    [Fact]
    public async Task SigInt_InKubernetes_RunsTheWait_UntilASecondSigInt()
    {
        AssertSigIntReachesChildren();
        await using SampleProcess app = await SampleProcess.StartAsync(EndlessWait,
            new Dictionary<string, string> { ["KUBERNETES_SERVICE_HOST"] = "10.96.0.1" });
        using HttpClient client = SampleProcess.CreateClient(app.BaseAddress!);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("health/ready")).StatusCode);

        app.Signal(SampleProcess.SIGINT);
        await app.WaitForEventAsync(100, "SigInt");
        HttpResponseMessage ready = await client.GetAsync("health/ready");
        HttpResponseMessage root = await client.GetAsync("");
        app.Signal(SampleProcess.SIGINT);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal(HttpStatusCode.OK, root.StatusCode);
        Assert.Equal(0, await app.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        Assert.True(app.HasEvent(102, "(SkippedBySecondSignal)"), app.Output);
        Assert.Equal("warn", app.EventLevel(2));
    }

    /// <summary>
    /// A test run started in the background (<c>build/test.sh &amp;</c>, <c>nohup</c>) ignores SIGINT, and so does every child it
    /// starts: .NET keeps an inherited SIG_IGN for SIGINT, as shells expect. Say so rather than time out.
    /// </summary>
    private static void AssertSigIntReachesChildren()
    {
        string? ignored = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        bool sigIntIgnored = ignored is not null && (Convert.ToUInt64(ignored["SigIgn:".Length..].Trim(), 16) & (1UL << (SampleProcess.SIGINT - 1))) != 0;
        Assert.False(sigIntIgnored, "SIGINT is ignored by this test run (started in the background?), so the child would ignore it too: run the tests in the foreground.");
    }

    [Fact]
    public async Task SigTerm_DuringStartupWork_StopsInOrderWithExitCodeZero()
    {
        await using SampleProcess app = await SampleProcess.StartAsync(["--Sample:StartupWorkMs=2000", .. FastWait], waitUntilListening: false);
        await app.WaitForLineAsync(l => l.Contains("Sample: start-up work running", StringComparison.Ordinal));

        app.Signal(SampleProcess.SIGTERM);
        int exitCode = await app.WaitForExitAsync();

        Assert.Equal(0, exitCode);
        Assert.True(app.HasEvent(6, "SIGTERM"), app.Output);
        Assert.Contains(app.Lines, l => l.Contains("Sample: start-up work done", StringComparison.Ordinal));
        Assert.True(app.HasEvent(102, "(SkippedNeverReady)"), app.Output);
        Assert.False(app.HasEvent(5), app.Output);
    }

    [Fact]
    public async Task SigTerm_DuringStartupWork_WithoutTheLibrary_KillsTheProcessWith143()
    {
        // The .NET 10 behaviour the library protects against: no handler yet, so SIGTERM terminates at once.
        await using SampleProcess app = await SampleProcess.StartAsync(["--Sample:StartupWorkMs=2000", "--Sample:UseLibrary=false"],
            waitUntilListening: false);
        await app.WaitForLineAsync(l => l.Contains("Sample: start-up work running", StringComparison.Ordinal));

        app.Signal(SampleProcess.SIGTERM);

        Assert.Equal(143, await app.WaitForExitAsync());
        Assert.DoesNotContain(app.Lines, l => l.Contains("Sample: start-up work done", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SigTerm_LongRequest_DrainDeadlineEndsItBeforeTheAbort()
    {
        await using SampleProcess app = await SampleProcess.StartAsync(
            [.. FastWait, "--GracefulShutdown:DrainTimeout=00:00:03", "--GracefulShutdown:DrainCancellationLead=00:00:01"]);
        using HttpClient client = SampleProcess.CreateClient(app.BaseAddress!);
        Task<HttpResponseMessage> longRequest = client.GetAsync("work?ms=60000");
        await app.WaitForLineAsync(l => l.Contains("Work of 60000 ms started", StringComparison.Ordinal));

        app.Signal(SampleProcess.SIGTERM);
        HttpResponseMessage response = await longRequest;
        int exitCode = await app.WaitForExitAsync();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("drain deadline", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, exitCode);
    }

    [Fact]
    public async Task WarmupRequests_AreServedBeforeTheAppTurnsReady()
    {
        await using SampleProcess app = await SampleProcess.StartAsync(FastWait);
        await app.WaitForEventAsync(5);

        List<string> lines = [.. app.Lines];
        int warmedUp = lines.FindIndex(l => l.Contains("Work of 0 ms started", StringComparison.Ordinal));
        int ready = lines.IndexOf(await app.WaitForEventAsync(5));
        Assert.True(warmedUp >= 0 && warmedUp < ready, string.Join('\n', lines));
        app.Signal(SampleProcess.SIGTERM);
        Assert.Equal(0, await app.WaitForExitAsync());
    }

    [Fact]
    public async Task InvalidBudget_FailsStartupNamingKeysAndValues()
    {
        await using SampleProcess app = await SampleProcess.StartAsync(
            ["--GracefulShutdown:TrafficWait:Minimum=00:00:20", "--GracefulShutdown:TrafficWait:Maximum=00:00:10"], waitUntilListening: false);

        int exitCode = await app.WaitForExitAsync();

        Assert.NotEqual(0, exitCode);
        Assert.Contains("GracefulShutdown:TrafficWait:Minimum (00:00:20) must not exceed GracefulShutdown:TrafficWait:Maximum (00:00:10)", app.Output);
        Assert.False(app.HasEvent("Microsoft.Hosting.Lifetime", 14), app.Output); // never listened
    }
}
