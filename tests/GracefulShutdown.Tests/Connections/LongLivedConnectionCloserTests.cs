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
    }

    private WebSocketRegistry Registry => _lifecycle.Services.GetRequiredService<WebSocketRegistry>();

    private LongLivedConnectionCloser Closer => _lifecycle.Services.GetRequiredService<LongLivedConnectionCloser>();

    public void Dispose() => _lifecycle.Dispose();

    [Fact]
    public async Task CloseAsync_SpreadsTheClosesOverTheWindow_With1001_AndEndsWhenEveryRequestEnded()
    {
        using var closes = new SemaphoreSlim(0);
        (TrackedWebSocket Tracked, FakeWebSocket Inner)[] sockets = [.. Enumerable.Range(0, 4).Select(_ => Accept(closes: closes))];
        using var closed = _lifecycle.Collect<long>("graceful_shutdown.websockets.closed");
        await WaitIsOverAsync();
        Task closing = Closer.CloseAsync();

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
        await WaitIsOverAsync();

        Task closing = Closer.CloseAsync();
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
        await WaitIsOverAsync();

        Task closing = Closer.CloseAsync();
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
        _lifecycle.BeginDrain(DrainTrigger.SigTerm);
        _lifecycle.TrafficWait.Skip(TrafficWaitOutcome.SkippedBySecondSignal);
        await _lifecycle.TrafficWait.WaitAsync().WaitAsync(Safety);

        Task closing = Closer.CloseAsync();

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
        await WaitIsOverAsync();
        Task closing = Closer.CloseAsync();

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
        LongLivedConnectionCloser closer = Closer; // created with the host, before any drain

        _lifecycle.BeginDrain(DrainTrigger.PreStop);
        Task<TrafficWaitResult> wait = _lifecycle.TrafficWait.WaitAsync();
        _time.Advance(TimeSpan.FromSeconds(1));
        await wait.WaitAsync(Safety);

        // Nobody here calls CloseAsync: the end of the wait does.
        Assert.True(await closes.WaitAsync(Safety));
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, socket.Inner.SentStatus);
        Registry.Remove(socket.Tracked);
        await closer.CloseAsync().WaitAsync(Safety);
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

    private async Task WaitIsOverAsync()
    {
        _lifecycle.BeginDrain(DrainTrigger.SigTerm);
        Task<TrafficWaitResult> wait = _lifecycle.TrafficWait.WaitAsync();
        _time.Advance(TimeSpan.FromSeconds(1));
        TrafficWaitResult result = await wait.WaitAsync(Safety);
        Assert.Equal(TrafficWaitOutcome.MaximumReached, result.Outcome);
    }
}
