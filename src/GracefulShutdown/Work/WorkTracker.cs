using GracefulShutdown.Diagnostics;

namespace GracefulShutdown.Work;

/// <summary>
/// Units of non-HTTP work in progress (a message being handled, a job step): the stop waits for them, within the drain timeout,
/// and names what is still running at the deadline.
/// </summary>
internal sealed class WorkTracker
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, int> _running = new(StringComparer.Ordinal);
    private int _count;
    private TaskCompletionSource? _idle;

    public WorkTracker(GracefulShutdownMetrics metrics) => metrics.ObserveWorkInProgress(() => Count);

    public int Count => Volatile.Read(ref _count);

    public IDisposable Begin(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        lock (_gate)
        {
            _running[name] = _running.GetValueOrDefault(name) + 1;
            _count++;
        }

        return new Scope(this, name);
    }

    /// <summary>A task that completes when no work is running.</summary>
    public Task WhenIdle()
    {
        lock (_gate)
        {
            if (_count == 0)
            {
                return Task.CompletedTask;
            }

            _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _idle.Task;
        }
    }

    /// <summary>The work running now, e.g. <c>orders ×2, emails ×1</c>.</summary>
    public string Describe()
    {
        lock (_gate)
        {
            return string.Join(", ", _running.OrderBy(static p => p.Key, StringComparer.Ordinal).Select(static p => $"{p.Key} ×{p.Value}"));
        }
    }

    private void End(string name)
    {
        TaskCompletionSource? idle = null;
        lock (_gate)
        {
            if (--_running[name] == 0)
            {
                _running.Remove(name);
            }

            if (--_count == 0)
            {
                idle = _idle;
                _idle = null;
            }
        }

        idle?.TrySetResult();
    }

    private sealed class Scope(WorkTracker tracker, string name) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                tracker.End(name);
            }
        }
    }
}
