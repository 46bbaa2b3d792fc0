using System.Diagnostics;
using System.Net;
using Xunit.Abstractions;

namespace GracefulShutdown.IntegrationTests;

/// <summary>
/// Defence in depth: a drain begun by preStop that no SIGTERM follows (a caller that got through, a script) ends the process
/// after TerminationGracePeriod + PreStop:SigTermMargin, instead of leaving a replica out of rotation with liveness 200.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class PreStopWithoutSigTermTests(ITestOutputHelper output)
{
    [Fact]
    public async Task PreStop_WithoutSigTerm_TheProcessStopsItselfWithAWarning_ExitCodeZero()
    {
        await using SampleProcess app = await SampleProcess.StartAsync(
        [
            "--GracefulShutdown:TrafficWait:Minimum=00:00:00.300",
            "--GracefulShutdown:TrafficWait:QuietPeriod=00:00:00.300",
            "--GracefulShutdown:TrafficWait:Maximum=00:00:02",
            "--GracefulShutdown:DrainTimeout=00:00:01",
            "--GracefulShutdown:DrainCancellationLead=00:00:00.500",
            "--GracefulShutdown:StopMargin=00:00:00.500",
            "--GracefulShutdown:TerminationGracePeriod=00:00:04",
            "--GracefulShutdown:PreStop:SigTermMargin=00:00:01",
        ]);
        using HttpClient client = SampleProcess.CreateClient(app.BaseAddress!);

        var stopwatch = Stopwatch.StartNew();
        HttpResponseMessage preStop = await client.GetAsync("lifecycle/prestop?wait=false");
        HttpResponseMessage ready = await client.GetAsync("health/ready");
        HttpResponseMessage live = await client.GetAsync("health/live");
        string warning = await app.WaitForEventAsync(115);
        int exitCode = await app.WaitForExitAsync();
        output.WriteLine($"preStop without SIGTERM to exit: {stopwatch.ElapsedMilliseconds} ms (grace period 4 s + margin 1 s)");
        output.WriteLine(warning);

        Assert.Equal(HttpStatusCode.Accepted, preStop.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal("warn", app.EventLevel(115));
        Assert.Equal(0, exitCode);
        Assert.True(app.HasEvent(106), app.Output);
    }
}
