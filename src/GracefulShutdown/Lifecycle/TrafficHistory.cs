using Microsoft.Extensions.Options;

namespace GracefulShutdown.Lifecycle;

/// <summary>
/// The arrival history the traffic wait reads as evidence: per-second request counts over the last
/// <c>TrafficWait:RateWindow</c>, and the total since the application became ready. A timer samples the tracker's arrival
/// count once a second, so the request path does no extra work.
/// </summary>
internal sealed class TrafficHistory : IDisposable
{
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);

    private readonly LifecycleState _state;
    private readonly RequestTracker _requests;
    private readonly TimeProvider _time;
    private readonly Lock _sync = new();
    private readonly long[] _perSecond;
    private readonly ITimer _timer;
    private int _next;
    private int _filled;
    private long _total;
    private uint _lastSample;
    private long _lastSampleAt;
    private long _readyAt;
    private bool _stopped;

    public TrafficHistory(LifecycleState state, RequestTracker requests, IOptions<GracefulShutdownOptions> options, TimeProvider time)
    {
        _state = state;
        _requests = requests;
        _time = time;
        _perSecond = new long[Math.Max(1, (int)Math.Ceiling(options.Value.TrafficWait.RateWindow.TotalSeconds))];
        _timer = time.CreateTimer(static h => ((TrafficHistory)h!).Sample(), this, Tick, Tick);
    }

    private void Sample()
    {
        lock (_sync)
        {
            if (_stopped)
            {
                return;
            }

            uint arrivals = _requests.Arrivals;
            long count = (uint)(arrivals - _lastSample);
            _lastSample = arrivals;
            _lastSampleAt = _time.GetTimestamp();

            // History starts at the first tick after readiness: nothing routes here before, and warm-up requests are not callers.
            if (_readyAt == 0)
            {
                if (_state.IsRunning)
                {
                    _readyAt = _lastSampleAt;
                }

                return;
            }

            _perSecond[_next] = count;
            _next = (_next + 1) % _perSecond.Length;
            _filled = Math.Min(_filled + 1, _perSecond.Length);
            _total += count;
        }
    }

    /// <summary>
    /// Stops sampling and returns what was observed up to now (the current partial second included). Before readiness the
    /// history is empty.
    /// </summary>
    public TrafficObservation Freeze()
    {
        lock (_sync)
        {
            _stopped = true;
            _timer.Dispose();
            if (_readyAt == 0)
            {
                return default;
            }

            long now = _time.GetTimestamp();
            long partial = (uint)(_requests.Arrivals - _lastSample);
            double partialSeconds = _time.GetElapsedTime(_lastSampleAt, now).TotalSeconds;
            long recent = partial;
            for (int i = 0; i < _filled; i++)
            {
                recent += _perSecond[i];
            }

            return new TrafficObservation(
                RecentRequests: recent,
                RecentSeconds: _filled + partialSeconds,
                TotalRequests: _total + partial,
                TotalSeconds: _time.GetElapsedTime(_readyAt, now).TotalSeconds);
        }
    }

    public void Dispose()
    {
        lock (_sync)
        {
            _stopped = true;
            _timer.Dispose();
        }
    }
}

/// <summary>Requests observed before the drain: over the recent window, and since the application became ready.</summary>
internal readonly record struct TrafficObservation(long RecentRequests, double RecentSeconds, long TotalRequests, double TotalSeconds);
