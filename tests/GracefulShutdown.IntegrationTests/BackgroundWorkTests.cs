using System.Net;

namespace GracefulShutdown.IntegrationTests;

/// <summary>
/// The sample's message consumer (the documented recipe) through SIGTERM, as a real process: it stops taking new messages when the
/// drain begins and holds the stop with <c>BeginWork</c> until the message in hand is done.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class BackgroundWorkTests
{
    private static readonly string[] FastWait =
    [
        "--GracefulShutdown:TrafficWait:Minimum=00:00:00.300",
        "--GracefulShutdown:TrafficWait:QuietPeriod=00:00:00.300",
        "--GracefulShutdown:TrafficWait:Maximum=00:00:03",
    ];

    [Fact]
    public async Task SigTerm_TheOrderInHandIsFinishedBeforeTheHostStops_AndNoNewOrderIsTaken()
    {
        await using SampleProcess app = await SampleProcess.StartAsync(FastWait);
        using HttpClient client = SampleProcess.CreateClient(app.BaseAddress!);
        // Longer than the traffic wait's maximum (3 s), so the order is still in hand when the server drain begins.
        HttpResponseMessage first = await client.PostAsync("orders?ms=5000", content: null);
        await app.WaitForLineAsync(l => l.Contains("Order 1 started", StringComparison.Ordinal));

        app.Signal(SampleProcess.SIGTERM);
        await app.WaitForEventAsync(100, "SigTerm");
        HttpResponseMessage second = await client.PostAsync("orders?ms=10", content: null);
        int exitCode = await app.WaitForExitAsync();

        IReadOnlyList<string> lines = app.Lines;
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        Assert.Equal(0, exitCode);
        // 125 names the work in progress and its count ("orders ×1"); "Order 1 done" is the sample's own line.
        int waiting = SampleProcess.IndexOfEvent(lines, 125, "orders ×1");
        int done = SampleProcess.IndexOf(lines, l => l.Contains("Order 1 done", StringComparison.Ordinal));
        int complete = SampleProcess.IndexOfEvent(lines, 106);
        Assert.True(waiting >= 0 && done > waiting && complete > done, app.Output);
        Assert.DoesNotContain(lines, l => l.Contains("Order 2 started", StringComparison.Ordinal));
        Assert.False(app.HasEvent(126), app.Output);
    }

    [Fact]
    public async Task PostOrders_WithABadDuration_Answers400ProblemJson()
    {
        await using SampleProcess app = await SampleProcess.StartAsync(FastWait);
        using HttpClient client = SampleProcess.CreateClient(app.BaseAddress!);

        HttpResponseMessage response = await client.PostAsync("orders?ms=soon", content: null);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
    }
}
