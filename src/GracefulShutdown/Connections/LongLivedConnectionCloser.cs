using System.Diagnostics.Metrics;
using System.Globalization;
using GracefulShutdown.Diagnostics;
using GracefulShutdown.Lifecycle;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulShutdown.Connections;

/// <summary>
/// When the traffic wait is over, closes the application's WebSockets with 1001 ("going away"), spread over
/// <c>Connections:CloseWindow</c> with jitter so that their clients do not all reconnect at once, then waits for the closing
/// handshakes; what has not finished <c>Connections:CloseTimeout</c> after the start is aborted. It runs once per drain, before
/// ApplicationStopping (SignalR aborts whatever is still open then) and before the server drain.
/// </summary>
internal sealed class LongLivedConnectionCloser : IDisposable
{
    private readonly WebSocketRegistry _registry;
    private readonly TrafficWait _trafficWait;
    private readonly LongLivedConnectionOptions _options;
    private readonly TimeSpan _closeTimeout;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ShutdownReport _report;
    private readonly Counter<long> _closed;
    private readonly Counter<long> _aborted;
    private readonly Lock _sync = new();
    private readonly CancellationTokenRegistration _onTrafficWaitEnded;
    private Task? _closing;
    private long _startedAt;
    private long _finishedAt;

    public LongLivedConnectionCloser(WebSocketRegistry registry, TrafficWait trafficWait, IOptions<GracefulShutdownOptions> options,
        TimeProvider time, ShutdownReport report, ILogger<LongLivedConnectionCloser> logger, IMeterFactory meterFactory)
    {
        _report = report;
        _registry = registry;
        _trafficWait = trafficWait;
        _options = options.Value.Connections;
        TimeSpan room = options.Value.DrainTimeout - options.Value.DrainCancellationLead;
        _closeTimeout = _options.CloseTimeout ?? (room > TimeSpan.Zero ? room : options.Value.DrainTimeout);
        _time = time;
        _logger = logger;
        Meter meter = meterFactory.Create(GracefulShutdownTelemetry.MeterName);
        _closed = meter.CreateCounter<long>("graceful_shutdown.websockets.closed", "{websocket}",
            "WebSockets the library closed with 1001 (going away) when the traffic wait was over, whose closing handshake completed.");
        _aborted = meter.CreateCounter<long>("graceful_shutdown.websockets.aborted", "{websocket}",
            "WebSockets still open at Connections:CloseTimeout after their close began; they were aborted.");

        // Whatever began the drain, the connections go when the wait is over (a preStop call answers then too).
        _onTrafficWaitEnded = trafficWait.Ended.Register(static closer => _ = ((LongLivedConnectionCloser)closer!).CloseAsync(), this);
    }

    /// <summary>
    /// Gets the part of the drain timeout the close used: how long it took, or how long it has been running (zero if it has not
    /// begun). A close that ended long before the host stopped (a drain begun with <c>DrainAsync()</c>) uses only its duration.
    /// </summary>
    public TimeSpan Elapsed
    {
        get
        {
            long started = Volatile.Read(ref _startedAt);
            long finished = Volatile.Read(ref _finishedAt);
            return started == 0 ? TimeSpan.Zero : finished == 0 ? _time.GetElapsedTime(started) : _time.GetElapsedTime(started, finished);
        }
    }

    /// <summary>Closes the long-lived connections, once; every call returns the same task. The drain must have begun.</summary>
    public Task CloseAsync()
    {
        lock (_sync)
        {
            return _closing ??= RunAsync();
        }
    }

    private async Task RunAsync()
    {
        Volatile.Write(ref _startedAt, _time.GetTimestamp());
        try
        {
            await CloseWebSocketsAsync().ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref _finishedAt, _time.GetTimestamp());
        }
    }

    private async Task CloseWebSocketsAsync()
    {
        // Started by the wait's end, the result is there already: the closes are scheduled in TrafficWaitEnded's callback.
        TrafficWaitResult wait = await _trafficWait.WaitAsync().ConfigureAwait(false);
        if (!_options.CloseWebSockets)
        {
            return;
        }

        // A skipped wait (second signal, Ctrl+C locally, never ready) means hurry: no spreading.
        bool skipped = wait.Outcome is TrafficWaitOutcome.SkippedBySecondSignal or TrafficWaitOutcome.SkippedOnLocalInterrupt
            or TrafficWaitOutcome.SkippedNeverReady;
        TimeSpan window = skipped ? TimeSpan.Zero : (_options.CloseWindow < _closeTimeout ? _options.CloseWindow : _closeTimeout);
        TrackedWebSocket[] open = _registry.BeginClosing(CloseLate);
        TrackedWebSocket[] sockets = [.. open.Where(static s => !OptedOut(s))];
        _logger.ClosingWebSockets(sockets.Length, open.Length - sockets.Length, window);
        if (sockets.Length == 0)
        {
            return;
        }

        _report.Add("connections", string.Create(CultureInfo.InvariantCulture,
            $"closing {sockets.Length} WebSockets with 1001 over {window.TotalSeconds:0.###} s"));

        using var deadline = new CancellationTokenSource(_closeTimeout, _time);
        Random.Shared.Shuffle(sockets);
        var closing = new Task[sockets.Length];
        for (int i = 0; i < sockets.Length; i++)
        {
            // Slot i of the window, at a random point inside it: spread, and jittered.
            TimeSpan delay = window * ((i + Random.Shared.NextDouble()) / sockets.Length);
            closing[i] = CloseOneAsync(sockets[i], delay, deadline.Token);
        }

        await Task.WhenAll(closing).ConfigureAwait(false);
        try
        {
            await Task.WhenAll(sockets.Select(_registry.WhenEnded)).WaitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // CloseTimeout reached: what is left is aborted below.
        }

        int aborted = 0;
        foreach (TrackedWebSocket socket in sockets)
        {
            if (!_registry.WhenEnded(socket).IsCompleted)
            {
                socket.Abort();
                aborted++;
            }
        }

        _closed.Add(sockets.Length - aborted);
        if (aborted > 0)
        {
            _aborted.Add(aborted);
            _logger.WebSocketsAborted(aborted, _closeTimeout);
        }

        _logger.WebSocketsClosed(sockets.Length - aborted, Elapsed.TotalSeconds);
        _report.Add("connections", string.Create(CultureInfo.InvariantCulture,
            $"{sockets.Length - aborted} WebSockets closed, {aborted} aborted"));
    }

    private async Task CloseOneAsync(TrackedWebSocket socket, TimeSpan delay, CancellationToken deadline)
    {
        try
        {
            await Task.Delay(delay, _time, deadline).ConfigureAwait(false);
            await socket.CloseGoingAwayAsync(deadline).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The client may be gone already, or the deadline passed: what is left is aborted at the deadline.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _logger.WebSocketCloseFailed(ex.Message);
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

    public void Dispose() => _onTrafficWaitEnded.Dispose();
}

/// <summary>
/// Endpoint metadata (<c>DisableGracefulWebSocketClose()</c>): the library leaves this endpoint's WebSockets to the endpoint,
/// which closes them itself on <see cref="IGracefulShutdown.TrafficWaitEnded"/>.
/// </summary>
internal sealed class WebSocketCloseOptOut
{
    public static readonly WebSocketCloseOptOut Instance = new();
}
