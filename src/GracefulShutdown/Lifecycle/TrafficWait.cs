using System.Diagnostics.Metrics;
using GracefulShutdown.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulShutdown.Lifecycle;

/// <summary>
/// Keeps the application serving after the drain began until load balancers have stopped routing here: at least
/// <c>Minimum</c>, then until no request arrived for <c>QuietPeriod</c>, at most <c>Maximum</c>. One wait per drain,
/// shared by every trigger.
/// </summary>
internal sealed class TrafficWait : IDisposable
{
    private readonly LifecycleState _state;
    private readonly RequestTracker _requests;
    private readonly TrafficWaitOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Histogram<double> _duration;
    private readonly Lock _sync = new();
    private readonly CancellationTokenSource _skip = new();
    private readonly CancellationTokenSource _ended = new();
    private TrafficWaitOutcome? _skipReason;
    private Task<TrafficWaitResult>? _wait;
    private TrafficWaitResult? _result;

    public TrafficWait(LifecycleState state, RequestTracker requests, IOptions<GracefulShutdownOptions> options, TimeProvider time,
        ILogger<TrafficWait> logger, IMeterFactory meterFactory)
    {
        _state = state;
        _requests = requests;
        _options = options.Value.TrafficWait;
        _time = time;
        _logger = logger;
        _duration = meterFactory.Create(GracefulShutdownTelemetry.MeterName).CreateHistogram<double>(
            "graceful_shutdown.traffic_wait.duration", "s",
            "How long the application kept serving after the drain began, tagged with why the wait ended.");
    }

    /// <summary>Gets a token that is canceled when the wait is over.</summary>
    public CancellationToken Ended => _ended.Token;

    /// <summary>Gets how the wait ended, once it has: set before <see cref="Ended"/> fires, so its callbacks can read it.</summary>
    public TrafficWaitResult? Result
    {
        get
        {
            lock (_sync)
            {
                return _result;
            }
        }
    }

    /// <summary>Ends the wait early (a second signal, Ctrl+C locally); the first reason given is the one reported.</summary>
    public void Skip(TrafficWaitOutcome reason)
    {
        lock (_sync)
        {
            _skipReason ??= reason;
        }

        _skip.Cancel();
    }

    /// <summary>Returns the one traffic wait of this drain, starting it on first call. The drain must have begun.</summary>
    public Task<TrafficWaitResult> WaitAsync()
    {
        lock (_sync)
        {
            if (!_state.IsDraining)
            {
                throw new InvalidOperationException("The traffic wait starts only after the drain has begun.");
            }

            if (!_state.BecameReady)
            {
                // Nothing routed traffic to an instance that was never ready.
                _skipReason ??= TrafficWaitOutcome.SkippedNeverReady;
                _skip.Cancel();
            }

            return _wait ??= RunAsync();
        }
    }

    private async Task<TrafficWaitResult> RunAsync()
    {
        long start = _state.DrainStartedAt;
        TrafficWaitOutcome outcome;
        while (true)
        {
            if (_skip.IsCancellationRequested)
            {
                lock (_sync)
                {
                    outcome = _skipReason ?? TrafficWaitOutcome.SkippedBySecondSignal;
                }

                break;
            }

            long now = _time.GetTimestamp();
            TimeSpan elapsed = _time.GetElapsedTime(start, now);
            if (elapsed >= _options.Maximum)
            {
                outcome = TrafficWaitOutcome.MaximumReached;
                break;
            }

            // The quiet period counts from the drain start at the earliest.
            TimeSpan quiet = _time.GetElapsedTime(Math.Max(start, _requests.LastArrivalWhileDraining), now);
            if (elapsed >= _options.Minimum && quiet >= _options.QuietPeriod)
            {
                outcome = TrafficWaitOutcome.Quiet;
                break;
            }

            // Sleep until the earliest moment the wait could end; a request arriving meanwhile only moves that moment later.
            TimeSpan next = Max(_options.Minimum - elapsed, _options.QuietPeriod - quiet);
            next = Min(Max(next, TimeSpan.FromMilliseconds(1)), _options.Maximum - elapsed);
            try
            {
                await Task.Delay(next, _time, _skip.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Skipped: the loop reports why.
            }
        }

        var result = new TrafficWaitResult(outcome, _time.GetElapsedTime(start), _requests.ArrivalsWhileDraining);
        _logger.TrafficWaitEnded(result.Outcome, result.Elapsed.TotalSeconds, result.RequestsDuringWait);
        if (outcome == TrafficWaitOutcome.MaximumReached && result.RequestsDuringWait > 0)
        {
            _logger.TrafficWaitMaximumReached(_time.GetElapsedTime(_requests.LastArrivalWhileDraining).TotalSeconds, _options.Maximum);
        }

        _duration.Record(result.Elapsed.TotalSeconds, new KeyValuePair<string, object?>("outcome", result.Outcome.ToString()));
        lock (_sync)
        {
            _result = result;
        }

        await _ended.CancelAsync().ConfigureAwait(false);
        return result;
    }

    public void Dispose()
    {
        _skip.Dispose();
        _ended.Dispose();
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
