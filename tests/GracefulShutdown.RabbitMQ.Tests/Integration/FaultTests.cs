using System.Diagnostics;
using System.Text;
using GracefulShutdown.Testing.Processes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;

namespace GracefulShutdown.RabbitMQ.Tests.Integration;

/// <summary>Faults against the real broker: a handler that throws, a broker that goes away during the drain.</summary>
[Collection(BrokerCollection.Name)]
[Trait("Category", "Process")]
public sealed class FaultTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(30);

    [SkippableFact]
    public async Task HandlerThrows_TheDeliveryIsRequeuedAndHandledAgain_NotLost_NotTwice()
    {
        await using Broker broker = await Broker.ConnectAsync();
        string[] ids = await broker.PublishAsync(10);
        Broker.ResultCounter results = await broker.CountResultsAsync(ids.Length);
        int attempts = 0;

        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddGracefulShutdown().AddRabbitMQConsumer("orders", async (_, delivery, cancellationToken) =>
        {
            string id = Encoding.UTF8.GetString(delivery.Body.Span);
            if (id == "id-00003" && Interlocked.Increment(ref attempts) == 1)
            {
                throw new FormatException("malformed order");
            }

            await delivery.Channel.BasicPublishAsync(string.Empty, broker.ResultQueue, mandatory: false,
                new BasicProperties { Persistent = true, MessageId = id }, delivery.Body.ToArray(), cancellationToken);
        }, options =>
        {
            options.Url = broker.Url;
            options.Queue = broker.Queue;
        });
        using IHost host = builder.Build();
        await host.StartAsync();
        await results.All.WaitAsync(s_bound);
        await host.StopAsync().WaitAsync(s_bound);

        Assert.Equal(2, attempts);
        Assert.Equal(ids.Order(), results.Seen.Keys.Order());
        Assert.All(results.Seen, pair => Assert.Equal(1, pair.Value));
        Assert.Equal(0u, await broker.MessageCountAsync(broker.Queue));
    }

    [SkippableFact]
    public async Task BrokerGoneDuringTheDrain_TheWorkerStillExitsZeroWithinTheBudget_AndNothingIsLost()
    {
        await using Broker broker = await Broker.ConnectAsync();
        string[] ids = await broker.PublishAsync(5);
        Broker.ResultCounter results = await broker.CountResultsAsync(ids.Length);
        await using var link = new BrokerLink(broker.Url);
        int port = SampleProcessBase.FreePort();

        // Each message takes 3 s: the first is in hand when the drain begins, and the broker goes away before it is acked.
        await using (WorkerProcess worker = await WorkerProcess.StartAsync(
            [.. broker.WorkerArguments(port), $"--RabbitMQ:Url={link.Url(broker.Url)}", "--Worker:ProcessingMs=3000"]))
        {
            await worker.WaitForEventAsync("GracefulShutdown.RabbitMQ", 450, s_bound);
            var signalled = Stopwatch.StartNew();
            worker.Signal(SampleProcessBase.SIGTERM);
            await worker.WaitForEventAsync("GracefulShutdown.RabbitMQ", 452, s_bound);
            link.Cut();

            // Budget: StopDeadline 28 s of the 30 s grace period (library defaults); the worker ends much sooner.
            Assert.Equal(0, await worker.WaitForExitAsync(s_bound));
            Assert.True(signalled.Elapsed < TimeSpan.FromSeconds(28), $"exited after {signalled.Elapsed}");
        }

        // Nothing lost: every id is in the result queue or comes back from the work queue (the broker requeues what was not
        // acked once it sees the connection gone); one counter takes both, and completes when every id was seen.
        await broker.CountAsync(broker.Queue, results);
        await results.All.WaitAsync(s_bound);
        Assert.Equal(ids.Order(), results.Seen.Keys.Order());
    }
}
