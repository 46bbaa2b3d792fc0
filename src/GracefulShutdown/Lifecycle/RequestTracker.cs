using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace GracefulShutdown.Lifecycle;

/// <summary>
/// Counts the application's requests (not the library's probes): how many are in flight, and when the last one arrived after
/// the drain began. This is the per-request hot path: two interlocked operations and no allocation.
/// </summary>
internal sealed class RequestTracker
{
    private readonly LifecycleState _state;
    private readonly TimeProvider _time;
    private readonly Counter<long> _arrivedWhileDraining;
    private long _inFlight;
    private long _lastArrival;
    private long _arrivalsWhileDraining;

    public RequestTracker(LifecycleState state, TimeProvider time, IMeterFactory meterFactory)
    {
        _state = state;
        _time = time;
        Meter meter = meterFactory.Create(GracefulShutdownTelemetry.MeterName);
        meter.CreateObservableUpDownCounter("graceful_shutdown.requests.in_flight", () => Volatile.Read(ref _inFlight), "{request}",
            "Requests the application is serving now, not counting its own probe and preStop endpoints.");
        _arrivedWhileDraining = meter.CreateCounter<long>("graceful_shutdown.drain.requests", "{request}",
            "Requests that arrived after the drain began; each got its answer with Connection: close.");
    }

    public long InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Gets the timestamp of the last request that arrived after the drain began, or 0.</summary>
    public long LastArrivalWhileDraining => Volatile.Read(ref _lastArrival);

    public long ArrivalsWhileDraining => Interlocked.Read(ref _arrivalsWhileDraining);

    /// <summary>Counts a request. Returns whether the drain has begun, so the caller can close the connection.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool OnRequestStarted()
    {
        Interlocked.Increment(ref _inFlight);
        if (!_state.IsDraining)
        {
            return false;
        }

        Volatile.Write(ref _lastArrival, _time.GetTimestamp());
        Interlocked.Increment(ref _arrivalsWhileDraining);
        _arrivedWhileDraining.Add(1);
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void OnRequestFinished() => Interlocked.Decrement(ref _inFlight);
}
