using System.Net;

namespace GracefulShutdown.IntegrationTests;

/// <summary>
/// GracefulShutdown:Sidecar:ReadyUrl with the sample as a real process and a stand-in for the sidecar's readiness endpoint
/// (Istio: :15021/healthz/ready) on a real listener: readiness waits for the sidecar.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class SidecarGateProcessTests
{
    [Fact]
    public async Task SidecarReadyUrl_HoldsReadinessUntilTheSidecarAnswers200()
    {
        int sidecarPort = SampleProcess.FreePort();
        using var sidecar = new HttpListener();
        sidecar.Prefixes.Add($"http://127.0.0.1:{sidecarPort}/");
        sidecar.Start();
        int sidecarReady = 0;
        int polls = 0;
        var secondPoll = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task serving = Task.Run(async () =>
        {
            while (sidecar.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await sidecar.GetContextAsync();
                }
                catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }

                if (Interlocked.Increment(ref polls) == 2)
                {
                    secondPoll.TrySetResult();
                }

                context.Response.StatusCode = Volatile.Read(ref sidecarReady) == 1 ? 200 : 503;
                context.Response.Close();
            }
        });

        await using SampleProcess app = await SampleProcess.StartAsync(
        [
            $"--GracefulShutdown:Sidecar:ReadyUrl=http://127.0.0.1:{sidecarPort}/healthz/ready",
            "--GracefulShutdown:Sidecar:PollInterval=00:00:00.050",
            "--GracefulShutdown:TrafficWait:Minimum=00:00:00.300",
            "--GracefulShutdown:TrafficWait:Maximum=00:00:03",
        ], waitUntilListening: false);
        using HttpClient client = SampleProcess.CreateClient(await app.WaitUntilListeningAsync());
        await secondPoll.Task.WaitAsync(TimeSpan.FromSeconds(30));
        HttpResponseMessage readyBefore = await client.GetAsync("health/ready");
        Volatile.Write(ref sidecarReady, 1);
        await app.WaitForEventAsync(21, $"http://127.0.0.1:{sidecarPort}/healthz/ready");
        await app.WaitForEventAsync(5);
        HttpResponseMessage readyAfter = await client.GetAsync("health/ready");
        app.Signal(SampleProcess.SIGTERM);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, readyBefore.StatusCode);
        Assert.Equal(HttpStatusCode.OK, readyAfter.StatusCode);
        Assert.Equal(0, await app.WaitForExitAsync());
        sidecar.Stop();
        await serving.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
