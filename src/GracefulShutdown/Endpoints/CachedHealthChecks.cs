using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace GracefulShutdown.Endpoints;

/// <summary>
/// The health checks tagged for one probe, run at most once per cache period however often the probe is hit,
/// so that a probe stays cheap and a slow dependency check never runs once per request.
/// </summary>
internal sealed class CachedHealthChecks
{
    private readonly HealthCheckService? _service;
    private readonly Func<HealthCheckRegistration, bool> _predicate;
    private readonly TimeSpan _cacheDuration;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private CachedResult? _cached;
    private Task<HealthStatus>? _running;

    public CachedHealthChecks(HealthCheckService? service, IEnumerable<HealthCheckRegistration> registrations, string tag,
        TimeSpan cacheDuration, TimeProvider time)
    {
        _service = service;
        _predicate = registration => registration.Tags.Contains(tag);
        HasChecks = service is not null && registrations.Any(_predicate);
        _cacheDuration = cacheDuration;
        _time = time;
    }

    public bool HasChecks { get; }

    /// <summary>Returns the cached status, or runs the checks once for every caller waiting on an expired one.</summary>
    public ValueTask<HealthStatus> GetStatusAsync()
    {
        if (!HasChecks)
        {
            return new(HealthStatus.Healthy);
        }

        CachedResult? cached = Volatile.Read(ref _cached);
        if (cached is not null && _time.GetTimestamp() < cached.ExpiresAt)
        {
            return new(cached.Status);
        }

        lock (_gate)
        {
            if (_running is not { IsCompleted: false })
            {
                _running = RunAsync();
            }

            return new(_running);
        }
    }

    private async Task<HealthStatus> RunAsync()
    {
        HealthReport report = await _service!.CheckHealthAsync(_predicate, CancellationToken.None).ConfigureAwait(false);
        long expiresAt = _time.GetTimestamp() + (long)(_cacheDuration.TotalSeconds * _time.TimestampFrequency);
        Volatile.Write(ref _cached, new CachedResult(report.Status, expiresAt));
        return report.Status;
    }

    private sealed record CachedResult(HealthStatus Status, long ExpiresAt);
}
