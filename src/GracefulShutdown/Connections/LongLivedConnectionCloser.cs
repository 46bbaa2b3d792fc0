using GracefulShutdown.Diagnostics;
using GracefulShutdown.Lifecycle;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace GracefulShutdown.Connections;

/// <summary>
/// A drain participant: when the traffic wait is over, closes the application's WebSockets with 1001 ("going away"), spread
/// over <c>Connections:CloseWindow</c> with jitter so that their clients do not all reconnect at once, then waits for the closing
/// handshakes; what has not finished by the participants' deadline (<see cref="ShutdownBudget.CloseTimeout"/>) is aborted. It
/// runs before ApplicationStopping (SignalR aborts whatever is still open then) and before the server drain.
/// </summary>
internal sealed class LongLivedConnectionCloser(WebSocketRegistry registry, IOptions<GracefulShutdownOptions> options,
    ShutdownBudgetSource budget, TimeProvider time, ShutdownObserver observer) : IDrainParticipant
{
    public async Task RunAsync(TrafficWaitResult wait, CancellationToken deadline)
    {
        ConnectionOptions connections = options.Value.Connections;
        if (!connections.CloseWebSockets)
        {
            return;
        }

        long start = time.GetTimestamp();
        TimeSpan closeTimeout = budget.Current.CloseTimeout;

        // A skipped wait (second signal, Ctrl+C locally, never ready) means hurry: no spreading.
        bool skipped = wait.Outcome is TrafficWaitOutcome.SkippedBySecondSignal or TrafficWaitOutcome.SkippedOnLocalInterrupt
            or TrafficWaitOutcome.SkippedNeverReady;
        TimeSpan window = skipped ? TimeSpan.Zero : (connections.CloseWindow < closeTimeout ? connections.CloseWindow : closeTimeout);
        TrackedWebSocket[] open = registry.BeginClosing(CloseLate);
        TrackedWebSocket[] sockets = [.. open.Where(static s => !OptedOut(s))];
        observer.WebSocketsClosing(sockets.Length, open.Length - sockets.Length, window);
        if (sockets.Length == 0)
        {
            return;
        }

        Random.Shared.Shuffle(sockets);
        var closing = new Task[sockets.Length];
        for (int i = 0; i < sockets.Length; i++)
        {
            // Slot i of the window, at a random point inside it: spread, and jittered.
            TimeSpan delay = window * ((i + Random.Shared.NextDouble()) / sockets.Length);
            closing[i] = CloseOneAsync(sockets[i], delay, deadline);
        }

        await Task.WhenAll(closing).ConfigureAwait(false);
        try
        {
            await Task.WhenAll(sockets.Select(registry.WhenEnded)).WaitAsync(deadline).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The close timeout passed: what is left is aborted below.
        }

        int aborted = 0;
        foreach (TrackedWebSocket socket in sockets)
        {
            if (!registry.WhenEnded(socket).IsCompleted)
            {
                socket.Abort();
                aborted++;
            }
        }

        observer.WebSocketsClosed(sockets.Length - aborted, aborted, time.GetElapsedTime(start), closeTimeout);
    }

    private async Task CloseOneAsync(TrackedWebSocket socket, TimeSpan delay, CancellationToken deadline)
    {
        try
        {
            await Task.Delay(delay, time, deadline).ConfigureAwait(false);
            await socket.CloseGoingAwayAsync(deadline).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The client may be gone already, or the deadline passed: what is left is aborted at the deadline.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            observer.WebSocketCloseFailed(ex);
        }
    }

    /// <summary>A socket accepted after the close began (a reconnect that still reached this replica) goes away at once.</summary>
    private void CloseLate(TrackedWebSocket socket)
    {
        if (!OptedOut(socket))
        {
            _ = CloseOneAsync(socket, TimeSpan.Zero, CancellationToken.None);
        }
    }

    private static bool OptedOut(TrackedWebSocket socket) =>
        socket.Context.GetEndpoint()?.Metadata.GetMetadata<WebSocketCloseOptOut>() is not null;
}
