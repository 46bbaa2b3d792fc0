using System.Net.WebSockets;
using GracefulShutdown.Connections;
using GracefulShutdown.Lifecycle;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;

namespace GracefulShutdown.Tests.Connections;

public sealed class LongLivedConnectionCloserTests : IDisposable
{
    private static readonly TimeSpan Safety = TimeSpan.FromSeconds(10);
    private readonly FakeTimeProvider _time = new();
    private readonly TestLifecycle _lifecycle;
    private readonly CancellationTokenSource _deadline;

    public LongLivedConnectionCloserTests()
    {
        var options = new GracefulShutdownOptions
        {
            // With no traffic history the wait runs to its maximum: 1 s of fake time, then tests drive only the close.
            TrafficWait = { Minimum = TimeSpan.Zero, Maximum = TimeSpan.FromSeconds(1) },
            Connections = { CloseWindow = TimeSpan.FromSeconds(2), CloseTimeout = TimeSpan.FromSeconds(5) },
        };
        _lifecycle = new TestLifecycle(_time, options);
        _lifecycle.MarkRunning();
        _deadline = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _time);
    }

    private WebSocketRegistry Registry => _lifecycle.Services.GetRequiredService<WebSocketRegistry>();

    private LongLivedConnectionCloser Closer => _lifecycle.Services.GetServices<IDrainParticipant>().OfType<LongLivedConnectionCloser>().Single();

    public void Dispose()
    {
        _lifecycle.Dispose();
        _deadline.Dispose();
    }

    [Fact]
    public async Task CloseAsync_SpreadsTheClosesOverTheWindow_With1001_AndEndsWhenEveryRequestEnded()
    {
        using var closes = new SemaphoreSlim(0);
        (TrackedWebSocket Tracked, FakeWebSocket Inner)[] sockets = [.. Enumerable.Range(0, 4).Select(_ => Accept(closes: closes))];
        using var closed = _lifecycle.Collect<long>("graceful_shutdown.websockets.closed");
        Task closing = CloseAsync(await WaitIsOverAsync());

        // Slot k of the 2 s window holds exactly one close: at each slot's end one more socket has been closed, and no other.
        var countAtSlotEnd = new List<int>();
        for (int k = 1; k <= 4; k++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(500));
            Assert.True(await closes.WaitAsync(Safety), $"No close in slot {k}.");
            countAtSlotEnd.Add(sockets.Count(s => s.Inner.SentStatus is not null));
        }

        bool doneBeforeTheRequestsEnded = closing.IsCompleted;
        foreach ((TrackedWebSocket tracked, _) in sockets)
        {
            Registry.Remove(tracked);
        }

        await closing.WaitAsync(Safety);

        Assert.Equal([1, 2, 3, 4], countAtSlotEnd);
        Assert.All(sockets, s => Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, s.Inner.SentStatus));
        Assert.False(doneBeforeTheRequestsEnded);
        Assert.All(sockets, s => Assert.False(s.Inner.Aborted));
        Assert.Equal(4, closed.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Contains(_lifecycle.Logs.GetSnapshot(), r => r.Id.Id == 120 && r.Message.Contains("Closing 4 WebSockets", StringComparison.Ordinal));
        Assert.Contains(_lifecycle.Logs.GetSnapshot(), r => r.Id.Id == 121 && r.Message.Contains("4 WebSockets closed cleanly", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CloseAsync_AbortsWhatHasNotEndedAtTheCloseTimeout()
    {
        (TrackedWebSocket Tracked, FakeWebSocket Inner) polite = Accept();
        (TrackedWebSocket Tracked, FakeWebSocket Inner) stuck = Accept();
        using var aborted = _lifecycle.Collect<long>("graceful_shutdown.websockets.aborted");
        TrafficWaitResult wait = await WaitIsOverAsync();

        Task closing = CloseAsync(wait);
        _time.Advance(TimeSpan.FromSeconds(2));
        Registry.Remove(polite.Tracked);
        bool doneBeforeTheTimeout = closing.IsCompleted;
        _time.Advance(TimeSpan.FromSeconds(3));
        await closing.WaitAsync(Safety);

        Assert.False(doneBeforeTheTimeout);
        Assert.False(polite.Inner.Aborted);
        Assert.True(stuck.Inner.Aborted);
        Assert.Equal(1, aborted.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Contains(_lifecycle.Logs.GetSnapshot(), r => r.Id.Id == 122 && r.Message.Contains("1 WebSockets", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CloseAsync_LeavesOptedOutEndpointsAlone()
    {
        var optedOut = new DefaultHttpContext();
        optedOut.SetEndpoint(new Endpoint(null, new EndpointMetadataCollection(WebSocketCloseOptOut.Instance), "own close"));
        (TrackedWebSocket Tracked, FakeWebSocket Inner) own = Accept(optedOut);
        TrafficWaitResult wait = await WaitIsOverAsync();

        Task closing = CloseAsync(wait);
        _time.Advance(TimeSpan.FromSeconds(5));
        await closing.WaitAsync(Safety);

        Assert.Null(own.Inner.ClosedAt);
        Assert.False(own.Inner.Aborted);
        Assert.Contains(_lifecycle.Logs.GetSnapshot(), r => r.Id.Id == 120 && r.Message.Contains("1 are left to their endpoints", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CloseAsync_AfterASkippedWait_ClosesEverythingAtOnce()
    {
        (TrackedWebSocket Tracked, FakeWebSocket Inner)[] sockets = [Accept(), Accept(), Accept()];
        _lifecycle.State.BeginDrain(DrainTrigger.SigTerm, 0);
        _lifecycle.TrafficWait.Skip(TrafficWaitOutcome.SkippedBySecondSignal);
        TrafficWaitResult wait = await _lifecycle.TrafficWait.WaitAsync().WaitAsync(Safety);

        Task closing = CloseAsync(wait);

        Assert.All(sockets, s => Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, s.Inner.SentStatus));
        foreach ((TrackedWebSocket tracked, _) in sockets)
        {
            Registry.Remove(tracked);
        }

        await closing.WaitAsync(Safety);
    }

    [Fact]
    public async Task ASocketAcceptedAfterTheCloseBegan_IsClosedAtOnce()
    {
        Task closing = CloseAsync(await WaitIsOverAsync());

        (TrackedWebSocket Tracked, FakeWebSocket Inner) late = Accept();

        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, late.Inner.SentStatus);
        await closing.WaitAsync(Safety);
    }

    [Fact]
    public async Task TheTrafficWaitEnding_StartsTheClose()
    {
        using var closes = new SemaphoreSlim(0);
        (TrackedWebSocket Tracked, FakeWebSocket Inner) socket = Accept(closes: closes);
        _lifecycle.Options.Connections.CloseWindow = TimeSpan.Zero;
        // Through the conductor, as every trigger goes: nobody calls the close.
        _lifecycle.BeginDrain(DrainTrigger.PreStop);
        Task<TrafficWaitResult> wait = _lifecycle.TrafficWait.WaitAsync();
        _time.Advance(TimeSpan.FromSeconds(1));
        await wait.WaitAsync(Safety);

        // Nobody here calls CloseAsync: the end of the wait does.
        Assert.True(await closes.WaitAsync(Safety));
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, socket.Inner.SentStatus);
        Registry.Remove(socket.Tracked);
        await _lifecycle.Conductor.BeforeStopAsync(DrainTrigger.PreStop).WaitAsync(Safety);
    }

    [Fact]
    public async Task TheAppsOwnCloseAfterTheLibrarysClose_CompletesInsteadOfThrowing()
    {
        (TrackedWebSocket Tracked, FakeWebSocket Inner) socket = Accept();
        Assert.True(await socket.Tracked.CloseGoingAwayAsync(CancellationToken.None));
        socket.Inner.ClientAnsweredClose();

        // What an echo loop does when it receives the client's close: answer it.
        await socket.Tracked.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        await socket.Tracked.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);

        Assert.False(await socket.Tracked.CloseGoingAwayAsync(CancellationToken.None));
        Assert.Equal(WebSocketState.Closed, socket.Tracked.State);
    }

    [Fact]
    public async Task TheAppsOwnClose_WithoutTheLibrarysClose_ReachesTheSocket()
    {
        (TrackedWebSocket Tracked, FakeWebSocket Inner) socket = Accept();

        await socket.Tracked.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);

        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.Inner.SentStatus);
    }

    private (TrackedWebSocket Tracked, FakeWebSocket Inner) Accept(HttpContext? context = null, SemaphoreSlim? closes = null)
    {
        var inner = new FakeWebSocket(_time, closes);
        var tracked = new TrackedWebSocket(inner, context ?? new DefaultHttpContext());
        Registry.Add(tracked);
        return (tracked, inner);
    }

    /// <summary>Runs the close as the conductor does, with the participants' deadline at the options' CloseTimeout (5 s).</summary>
    private Task CloseAsync(TrafficWaitResult wait)
    {
        _deadline.CancelAfter(TimeSpan.FromSeconds(5));
        return Closer.RunAsync(wait, _deadline.Token);
    }

    /// <summary>Begins the drain in the state alone (not through the conductor, which would start the close itself) and ends the wait.</summary>
    private async Task<TrafficWaitResult> WaitIsOverAsync()
    {
        _lifecycle.State.BeginDrain(DrainTrigger.SigTerm, 0);
        Task<TrafficWaitResult> wait = _lifecycle.TrafficWait.WaitAsync();
        _time.Advance(TimeSpan.FromSeconds(1));
        TrafficWaitResult result = await wait.WaitAsync(Safety);
        Assert.Equal(TrafficWaitOutcome.MaximumReached, result.Outcome);
        return result;
    }
}
