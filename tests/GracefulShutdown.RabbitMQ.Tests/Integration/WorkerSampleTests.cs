using System.Net;
using GracefulShutdown.Testing.Processes;

namespace GracefulShutdown.RabbitMQ.Tests.Integration;

/// <summary>The worker sample against the real broker, with real SIGTERM: no message lost or processed twice.</summary>
[Collection(BrokerCollection.Name)]
[Trait("Category", "Process")]
public sealed class WorkerSampleTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(30);

    [SkippableFact]
    public async Task Sigterm_WhileConsuming_ReadinessFailsAtOnce_ExitsZero_AndEveryIdIsInTheResultQueueExactlyOnce()
    {
        await using Broker broker = await Broker.ConnectAsync();
        string[] ids = await broker.PublishAsync(40);
        Broker.ResultCounter results = await broker.CountResultsAsync(ids.Length);

        int port = SampleProcessBase.FreePort();
        // The delivery in hand takes 3 s, so the drain (which finishes it) is still on when the readiness probe asks: at the
        // sample's 200 ms a loaded machine could ask after the worker had already exited. How soon readiness fails is the
        // worker benchmark's measurement (build/worker-rollout), not this test's.
        await using (WorkerProcess first = await WorkerProcess.StartAsync([.. broker.WorkerArguments(port), "--Worker:ProcessingMs=3000"]))
        {
            // Consuming with 10 prefetched: one delivery in hand, the rest received but not started.
            await first.WaitForEventAsync("GracefulShutdown.RabbitMQ", 450, s_bound);
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = s_bound };
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);

            first.Signal(SampleProcessBase.SIGTERM);
            await first.WaitForEventAsync(100);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/health/ready")).StatusCode);

            Assert.Equal(0, await first.WaitForExitAsync(s_bound));
            Assert.True(first.HasEvent(102, "(SkippedNoServer)"), first.Output);
            Assert.True(first.HasEvent("GracefulShutdown.RabbitMQ", 452), first.Output);
            Assert.True(first.HasEvent("GracefulShutdown.RabbitMQ", 456), first.Output);
        }

        // A second replica takes the rest.
        await using (WorkerProcess second = await WorkerProcess.StartAsync(broker.WorkerArguments(SampleProcessBase.FreePort())))
        {
            await results.All.WaitAsync(s_bound);
            second.Signal(SampleProcessBase.SIGTERM);
            Assert.Equal(0, await second.WaitForExitAsync(s_bound));
        }

        Assert.Equal(0u, await broker.MessageCountAsync(broker.Queue));
        Assert.Equal(ids.Order(), results.Seen.Keys.Order());
        Assert.All(results.Seen, pair => Assert.Equal(1, pair.Value));
    }

    [SkippableFact]
    public async Task BrokerDownAtStart_NotReady_AndSigtermStillExitsZeroWithinTheBudget()
    {
        // The test broker must exist for the Skip decision, but this worker points at a port nothing listens on.
        await using Broker broker = await Broker.ConnectAsync();
        int port = SampleProcessBase.FreePort();
        string down = $"amqp://guest:guest@127.0.0.1:{SampleProcessBase.FreePort()}/";
        await using WorkerProcess worker = await WorkerProcess.StartAsync(
            [.. broker.WorkerArguments(port), $"--RabbitMQ:Url={down}"]);
        await worker.WaitForEventAsync("GracefulShutdown.RabbitMQ", 451, s_bound);
        await worker.WaitForEventAsync(5);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = s_bound };
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/health/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);

        // No server, so no traffic wait: the worker goes straight to its (empty) drain rather than sitting out the budget.
        worker.Signal(SampleProcessBase.SIGTERM);
        Assert.Equal(0, await worker.WaitForExitAsync(s_bound));
        Assert.True(worker.HasEvent(102, "(SkippedNoServer)"), worker.Output);
    }
}
