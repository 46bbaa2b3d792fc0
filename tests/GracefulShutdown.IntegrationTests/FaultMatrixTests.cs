using System.Diagnostics;
using System.Net;
using System.Text.Json;
using GracefulShutdown.Eureka.Testing;
using Xunit.Abstractions;

namespace GracefulShutdown.IntegrationTests;

/// <summary>
/// Faults with the sample as a real process: each case asserts that nothing is lost (in-flight and draining-time requests
/// answer 200) and that the process exits 0 inside its budget. The in-process cases (a handler that ignores the drain
/// deadline, a start-up gate that ignores cancellation) are in the unit tests' FaultMatrixTests.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class FaultMatrixTests(ITestOutputHelper output)
{
    // terminationGracePeriodSeconds the library validates against: kubelet would SIGKILL after it.
    private static readonly TimeSpan GracePeriod = TimeSpan.FromSeconds(30);

    private static readonly string[] EndlessWait =
    [
        "--GracefulShutdown:TrafficWait:Minimum=00:01:00",
        "--GracefulShutdown:TrafficWait:Maximum=00:01:30",
        "--GracefulShutdown:TerminationGracePeriod=00:03:00",
    ];

    [Fact]
    public async Task SigTerm_DuringWarmup_ServesWhatArrived_NeverTurnsReady_ExitsZeroInsideTheBudget()
    {
        // The sample's "cache" start-up gate runs for 10 minutes: the app listens but is not ready.
        await using SampleProcess app = await SampleProcess.StartAsync(["--Sample:WarmupMs=600000"], waitUntilListening: false);
        Uri baseAddress = await app.WaitUntilListeningAsync();
        await app.WaitForLineAsync(l => l.Contains("Work of 0 ms started", StringComparison.Ordinal));
        using HttpClient client = SampleProcess.CreateClient(baseAddress);
        HttpResponseMessage readyDuringWarmup = await client.GetAsync("health/ready");
        HttpResponseMessage startupDuringWarmup = await client.GetAsync("health/startup");
        HttpResponseMessage liveDuringWarmup = await client.GetAsync("health/live");
        Task<HttpResponseMessage> inFlight = client.GetAsync("work?ms=1000");
        await app.WaitForLineAsync(l => l.Contains("Work of 1000 ms started", StringComparison.Ordinal));

        var stopwatch = Stopwatch.StartNew();
        app.Signal(SampleProcess.SIGTERM);
        HttpResponseMessage served = await inFlight;
        int exitCode = await app.WaitForExitAsync(GracePeriod);
        output.WriteLine($"SIGTERM during warm-up to exit: {stopwatch.ElapsedMilliseconds} ms");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, readyDuringWarmup.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, startupDuringWarmup.StatusCode);
        Assert.Equal(HttpStatusCode.OK, liveDuringWarmup.StatusCode);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal(0, exitCode);
        Assert.True(app.HasEvent(102, "(SkippedNeverReady)"), app.Output);
        Assert.False(app.HasEvent(5), app.Output); // never ready
        Assert.False(app.HasEvent(4), app.Output); // no start-up gate failed
    }

    [Fact]
    public async Task ConfigurationReload_DuringTheDrain_ChangesNothing_NothingLost_ExitsZero()
    {
        string contentRoot = Directory.CreateTempSubdirectory("gs-reload-").FullName;
        try
        {
            string settings = Path.Combine(contentRoot, "appsettings.json");
            await File.WriteAllTextAsync(settings, """{ "Logging": { "LogLevel": { "Default": "Information", "Microsoft.AspNetCore": "Warning" } } }""");
            await using SampleProcess app = await SampleProcess.StartAsync([.. EndlessWait, "--contentRoot", contentRoot]);
            using HttpClient client = SampleProcess.CreateClient(app.BaseAddress!);
            Task<HttpResponseMessage> inFlight = client.GetAsync("work?ms=3000");
            await app.WaitForLineAsync(l => l.Contains("Work of 3000 ms started", StringComparison.Ordinal));
            app.Signal(SampleProcess.SIGTERM);
            await app.WaitForEventAsync(100, "SigTerm");

            // Reloaded mid-drain: request logging on (so the reload is observable) and library options that would fail
            // validation at start-up. The running drain must keep its options.
            await File.WriteAllTextAsync(settings, """
                {
                  "Logging": { "LogLevel": { "Default": "Information", "Microsoft.AspNetCore": "Warning", "Microsoft.AspNetCore.Hosting.Diagnostics": "Information" } },
                  "GracefulShutdown": { "TrafficWait": { "Maximum": "garbage" }, "DrainTimeout": "-00:00:01", "NoSuchKey": 1 }
                }
                """);
            // Request starting: event 1 of ASP.NET Core's hosting diagnostics, logged once the reload turned it on.
            Task<string> reloaded = app.WaitForEventAsync("Microsoft.AspNetCore.Hosting.Diagnostics", 1);
            int served = 0;
            for (int i = 0; i < 5000 && !reloaded.IsCompleted; i++)
            {
                HttpResponseMessage during = await client.GetAsync("work?ms=2");
                Assert.Equal(HttpStatusCode.OK, during.StatusCode);
                Assert.True(during.Headers.ConnectionClose);
                served++;
            }

            await reloaded;
            HttpResponseMessage readyAfterReload = await client.GetAsync("health/ready");
            app.Signal(SampleProcess.SIGTERM);
            HttpResponseMessage finished = await inFlight;
            int exitCode = await app.WaitForExitAsync(GracePeriod);
            output.WriteLine($"requests served while the reload was pending: {served}");

            Assert.Equal(HttpStatusCode.ServiceUnavailable, readyAfterReload.StatusCode);
            Assert.Equal(HttpStatusCode.OK, finished.StatusCode);
            Assert.Equal(0, exitCode);
            Assert.True(app.HasEvent(102, "(SkippedBySecondSignal)"), app.Output);
            Assert.True(app.HasEvent(104), app.Output); // the server drain completed, nothing aborted
            Assert.DoesNotContain(app.Lines, l => l.Contains("Unhandled exception", StringComparison.OrdinalIgnoreCase));
            Assert.DoesNotContain(app.Lines, l => l.StartsWith("fail", StringComparison.Ordinal) || l.Contains(" fail: ", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(contentRoot, recursive: true);
        }
    }

    public static TheoryData<string> EurekaFaults() => ["500", "garbage", "hang"];

    [Theory]
    [MemberData(nameof(EurekaFaults))]
    public async Task Eureka_FailingDuringTheDrain_NothingLost_ExitsZeroInsideTheGracePeriod(string fault)
    {
        await using EurekaServerStandIn eureka = await EurekaServerStandIn.StartAsync();
        await using TcpForwarder front = TcpForwarder.Start(new IPEndPoint(IPAddress.Loopback, eureka.Port));
        await using SampleProcess app = await SampleProcess.StartAsync(
        [
            $"--eureka:client:serviceUrl={front.BaseAddress}eureka/",
            "--eureka:instance:appName=sample",
            "--eureka:instance:instanceId=sample-1",
            "--eureka:instance:leaseRenewalIntervalInSeconds=1",
            "--eureka:client:requestTimeoutSeconds=2",
            "--eureka:client:retryMaximumIntervalSeconds=1",
            "--GracefulShutdown:TrafficWait:Minimum=00:00:02.500",
            "--GracefulShutdown:TrafficWait:QuietPeriod=00:00:00.500",
            "--GracefulShutdown:TrafficWait:Maximum=00:00:05",
        ]);
        using HttpClient client = SampleProcess.CreateClient(app.BaseAddress!);
        await eureka.WaitForCallAsync(c => c.Operation == EurekaOperation.Register && c.StatusCode == 204 && Status(c) == "UP", GracePeriod);
        Task<HttpResponseMessage> inFlight = client.GetAsync("work?ms=1500");
        await app.WaitForLineAsync(l => l.Contains("Work of 1500 ms started", StringComparison.Ordinal));

        switch (fault)
        {
            case "500":
                foreach (EurekaOperation operation in (EurekaOperation[])[EurekaOperation.StatusOverride, EurekaOperation.Heartbeat, EurekaOperation.Cancel, EurekaOperation.Register])
                {
                    eureka.FailNext(operation, 500, times: 1000);
                }

                break;
            case "garbage":
                front.Mode = ForwarderMode.Garbage;
                break;
            default:
                front.Mode = ForwarderMode.Hang;
                break;
        }

        int acceptedBefore = front.Accepted;
        var stopwatch = Stopwatch.StartNew();
        app.Signal(SampleProcess.SIGTERM);
        await app.WaitForEventAsync(100, "SigTerm");
        var during = new List<HttpStatusCode>();
        for (int i = 0; i < 5; i++)
        {
            during.Add((await client.GetAsync("work?ms=10")).StatusCode);
        }

        HttpResponseMessage finished = await inFlight;
        int exitCode = await app.WaitForExitAsync(GracePeriod);
        output.WriteLine($"Eureka {fault} during the drain: SIGTERM to exit {stopwatch.ElapsedMilliseconds} ms; " +
            $"{front.Accepted - acceptedBefore} connections to Eureka after SIGTERM");

        Assert.Equal(HttpStatusCode.OK, finished.StatusCode);
        Assert.All(during, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Equal(0, exitCode);
        Assert.True(app.HasEvent(106), app.Output);
        Assert.DoesNotContain(app.Lines, l => l.Contains("Unhandled exception", StringComparison.OrdinalIgnoreCase));
        if (fault == "500")
        {
            Assert.Contains(eureka.Calls, c => c.Operation == EurekaOperation.StatusOverride && c.StatusCode == 500);
        }
        else
        {
            Assert.True(front.Accepted > acceptedBefore, "the app did not call Eureka during the drain");
        }
    }

    private static string? Status(EurekaCall call) =>
        call.RequestBody is null ? null : JsonDocument.Parse(call.RequestBody).RootElement.GetProperty("instance").GetProperty("status").GetString();
}
