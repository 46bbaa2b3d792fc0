using System.Threading.Channels;
using GracefulShutdown.Kubernetes.Watching;
using k8s;
using Microsoft.Extensions.Time.Testing;

namespace GracefulShutdown.Kubernetes.Tests;

/// <summary>
/// Fake time that reports each wait the code under test arms (a retry delay), so a test advances the clock only once the loop
/// waits. Timeouts (<see cref="CancellationTokenSource"/>(delay, timeProvider) passes itself as the timer's state) are not waits:
/// they are not reported.
/// </summary>
internal sealed class WaitReportingTimeProvider() : FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero))
{
    private readonly Channel<TimeSpan> _waits = Channel.CreateUnbounded<TimeSpan>();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ITimer timer = base.CreateTimer(callback, state, dueTime, period);
        if (state is not CancellationTokenSource)
        {
            _waits.Writer.TryWrite(dueTime);
        }

        return timer;
    }

    /// <summary>Waits until the next wait is armed (a safety bound only), and returns how long it is.</summary>
    public async Task<TimeSpan> NextWaitAsync() => await _waits.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

    /// <summary>Whether a wait is armed now, without waiting.</summary>
    public bool TryTakeWait(out TimeSpan wait) => _waits.Reader.TryRead(out wait);
}

/// <summary>Records what a watch told its consumer.</summary>
internal sealed class RecordingConsumer<T> : IResourceConsumer<T>
{
    private readonly Lock _sync = new();
    private readonly List<string> _seen = [];

    public IReadOnlyList<string> Seen
    {
        get
        {
            lock (_sync)
            {
                return [.. _seen];
            }
        }
    }

    public void Replace(IReadOnlyList<T> items) => Add($"replace {items.Count}");

    public void Apply(WatchEventType type, T item) => Add($"apply {type}");

    public void Lost() => Add("lost");

    private void Add(string what)
    {
        lock (_sync)
        {
            _seen.Add(what);
        }
    }
}
