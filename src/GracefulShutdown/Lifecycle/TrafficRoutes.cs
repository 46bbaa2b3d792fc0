namespace GracefulShutdown.Lifecycle;

/// <summary>
/// The routes add-ons watch (<see cref="IGracefulShutdownRoutes"/>): which were added and, once reported during the drain, when
/// each one's callers will have let go, as a <see cref="TimeProvider"/> timestamp. The traffic wait reads it; a report nudges the
/// wait to look again at once.
/// </summary>
internal sealed class TrafficRoutes(LifecycleState state, TimeProvider time) : IGracefulShutdownRoutes
{
    // A reported moment further than this from now is taken as this far: it only has to stay beyond any wait.
    private static readonly TimeSpan Horizon = TimeSpan.FromDays(1);

    private readonly Lock _sync = new();
    private readonly Dictionary<string, long?> _letGoAt = new(StringComparer.Ordinal);
    private Action? _reported;

    public void Add(string route)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(route);
        lock (_sync)
        {
            _letGoAt.TryAdd(route, null);
        }
    }

    public void LetGoBy(string route, DateTimeOffset letGoBy)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(route);
        if (!state.IsDraining)
        {
            // Evidence of this drain only: a route cannot be withdrawn before the drain withdrew it.
            return;
        }

        TimeSpan fromNow = letGoBy - time.GetUtcNow();
        fromNow = fromNow > Horizon ? Horizon : fromNow < -Horizon ? -Horizon : fromNow;
        long at = time.GetTimestamp() + (long)(fromNow.TotalSeconds * time.TimestampFrequency);
        Action? reported;
        lock (_sync)
        {
            _letGoAt[route] = at;
            reported = _reported;
        }

        reported?.Invoke();
    }

    /// <summary>Calls <paramref name="reported"/> after every report from now on (the traffic wait's nudge).</summary>
    public void OnReported(Action reported)
    {
        lock (_sync)
        {
            _reported = reported;
        }
    }

    /// <summary>
    /// When the callers of every route added will have let go, from <paramref name="start"/> (negative when before it), or
    /// <see langword="null"/> while no route was added or one has not reported.
    /// </summary>
    public TimeSpan? AllLetGoAt(long start)
    {
        lock (_sync)
        {
            if (_letGoAt.Count == 0)
            {
                return null;
            }

            long latest = long.MinValue;
            foreach (long? at in _letGoAt.Values)
            {
                if (at is not long reported)
                {
                    return null;
                }

                latest = Math.Max(latest, reported);
            }

            return time.GetElapsedTime(start, latest);
        }
    }
}
