namespace GracefulShutdown.Connections;

/// <summary>The WebSockets the application has accepted and not yet finished with (their request is still running).</summary>
internal sealed class WebSocketRegistry
{
    private readonly Lock _gate = new();
    private readonly Dictionary<TrackedWebSocket, TaskCompletionSource> _open = [];
    private Action<TrackedWebSocket>? _lateAccept;

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _open.Count;
            }
        }
    }

    public void Add(TrackedWebSocket socket)
    {
        Action<TrackedWebSocket>? late;
        lock (_gate)
        {
            _open[socket] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            late = _lateAccept;
        }

        // Accepted after the close began (a reconnect that still reached this replica): it goes away at once too.
        late?.Invoke(socket);
    }

    /// <summary>The socket's request has ended: the application is done with it.</summary>
    public void Remove(TrackedWebSocket socket)
    {
        TaskCompletionSource? ended;
        lock (_gate)
        {
            _open.Remove(socket, out ended);
        }

        ended?.TrySetResult();
    }

    /// <summary>Returns the sockets open now; from now on <paramref name="lateAccept"/> gets every socket accepted later.</summary>
    public TrackedWebSocket[] BeginClosing(Action<TrackedWebSocket> lateAccept)
    {
        lock (_gate)
        {
            _lateAccept = lateAccept;
            return [.. _open.Keys];
        }
    }

    /// <summary>A task that completes when the socket's request has ended.</summary>
    public Task WhenEnded(TrackedWebSocket socket)
    {
        lock (_gate)
        {
            return _open.TryGetValue(socket, out TaskCompletionSource? ended) ? ended.Task : Task.CompletedTask;
        }
    }
}
