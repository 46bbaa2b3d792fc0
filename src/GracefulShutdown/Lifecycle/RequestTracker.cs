using System.Net;
using System.Runtime.CompilerServices;
using GracefulShutdown.Diagnostics;

namespace GracefulShutdown.Lifecycle;

/// <summary>
/// Counts the application's requests (not the library's probes): how many are in flight, how many arrived in all (the
/// traffic history samples that), and who sent them after the drain began.
/// </summary>
/// <remarks>
/// This is the per-request hot path: one interlocked add when a request starts and one decrement when it ends, as before the
/// arrival count existed, because both counts share one 64-bit word (arrivals in the high half, wrapping; in-flight in the low).
/// </remarks>
internal sealed class RequestTracker
{
    private const long OneArrivalOneInFlight = (1L << 32) + 1;

    private readonly LifecycleState _state;
    private readonly TimeProvider _time;
    private readonly GracefulShutdownMetrics _metrics;
    private long _counts;
    private long _lastArrival;
    private long _arrivalsWhileDraining;

    public RequestTracker(LifecycleState state, TimeProvider time, GracefulShutdownMetrics metrics)
    {
        _state = state;
        _time = time;
        _metrics = metrics;
        metrics.ObserveRequestsInFlight(() => InFlight);
    }

    public long InFlight => (uint)Volatile.Read(ref _counts);

    /// <summary>Gets the number of requests that ever arrived, modulo 2^32: take differences as <see cref="uint"/>.</summary>
    public uint Arrivals => (uint)(Volatile.Read(ref _counts) >>> 32);

    /// <summary>Gets the timestamp of the last request that arrived after the drain began, or 0.</summary>
    public long LastArrivalWhileDraining => Volatile.Read(ref _lastArrival);

    public long ArrivalsWhileDraining => Interlocked.Read(ref _arrivalsWhileDraining);

    /// <summary>Gets who sent requests after the drain began.</summary>
    public LateCallers LateCallers { get; } = new();

    /// <summary>Counts a request. Returns whether the drain has begun, so the caller can close the connection.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool OnRequestStarted()
    {
        Interlocked.Add(ref _counts, OneArrivalOneInFlight);
        if (!_state.IsDraining)
        {
            return false;
        }

        OnArrivalWhileDraining();
        return true;
    }

    /// <summary>Records who sent a request that arrived after the drain began.</summary>
    public void RecordLateCaller(IPAddress? remote) => LateCallers.Record(remote, _time.GetTimestamp());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void OnRequestFinished() => Interlocked.Decrement(ref _counts);

    private void OnArrivalWhileDraining()
    {
        Volatile.Write(ref _lastArrival, _time.GetTimestamp());
        Interlocked.Increment(ref _arrivalsWhileDraining);
        // Straight to the counter, not the observer: this is the request path, and there is nothing to log or report.
        _metrics.AddDrainRequest();
    }
}
