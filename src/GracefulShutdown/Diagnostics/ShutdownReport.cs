using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;

namespace GracefulShutdown.Diagnostics;

/// <summary>
/// Collects the timeline of one shutdown — trigger, traffic wait and its evidence, server drain, add-on steps — into the
/// <c>graceful_shutdown</c> activity (an event per step) and one structured log line at exit (event 109).
/// </summary>
internal sealed class ShutdownReport : IGracefulShutdownReport
{
    private static readonly ActivitySource s_source = new(GracefulShutdownTelemetry.ActivitySourceName);

    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _sync = new();
    private readonly List<(TimeSpan At, string Source, string Step)> _steps = [];
    private long _drainStartedAt;
    private DateTimeOffset _drainStartedUtc;
    private string _trigger = "";
    private Activity? _activity;
    private bool _completed;

    public ShutdownReport(TimeProvider time, ILogger<ShutdownReport> logger)
    {
        _time = time;
        _logger = logger;
    }

    /// <summary>Gets the facts the exit line names one by one, beside the timeline.</summary>
    public ShutdownFacts Facts { get; } = new();

    /// <summary>Starts the report at the lifecycle's own drain timestamp, so its offsets match the traffic wait's.</summary>
    public void DrainStarted(string trigger, long inFlight, long drainStartedAt)
    {
        lock (_sync)
        {
            _drainStartedAt = drainStartedAt;
            _drainStartedUtc = _time.GetUtcNow() - _time.GetElapsedTime(drainStartedAt);
            _trigger = trigger;

            // A root activity: the signal handler or request that triggered the drain is not its parent.
            Activity? previous = Activity.Current;
            Activity.Current = null;
            _activity = s_source.StartActivity("graceful_shutdown", ActivityKind.Internal, parentContext: default,
                tags: [new("graceful_shutdown.trigger", trigger)], startTime: _drainStartedUtc);
            Activity.Current = previous;
        }

        Add("lifecycle", string.Create(CultureInfo.InvariantCulture, $"drain started by {trigger}, {inFlight} requests in flight"));
    }

    public void Add(string source, string step)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(step);
        lock (_sync)
        {
            if (_drainStartedAt == 0 || _completed)
            {
                return;
            }

            TimeSpan at = _time.GetElapsedTime(_drainStartedAt);
            _steps.Add((at, source, step));
            _activity?.AddEvent(new ActivityEvent(step, _drainStartedUtc + at, new ActivityTagsCollection { ["source"] = source }));
        }
    }

    /// <summary>Logs the report and ends the activity. Runs once.</summary>
    public void Complete()
    {
        string timeline;
        lock (_sync)
        {
            if (_drainStartedAt == 0 || _completed)
            {
                return;
            }

            _completed = true;
            var text = new StringBuilder();
            foreach ((TimeSpan at, string source, string step) in _steps)
            {
                text.Append(CultureInfo.InvariantCulture, $"{(text.Length > 0 ? "; " : "")}+{at.TotalSeconds:0.000} s {source}: {step}");
            }

            timeline = text.ToString();
            if (_activity is not null)
            {
                _activity.SetTag("graceful_shutdown.wait.outcome", Facts.WaitOutcome);
                _activity.SetTag("graceful_shutdown.drain.aborted_requests", Facts.Aborted);
                _activity.SetEndTime((_drainStartedUtc + _time.GetElapsedTime(_drainStartedAt)).UtcDateTime);
                _activity.Stop();
            }
        }

        ShutdownFacts f = Facts;
        string lastArrival = f.LastArrivalSeconds < 0
            ? "none during the wait"
            : string.Create(CultureInfo.InvariantCulture, $"at +{f.LastArrivalSeconds:0.000} s");
        _logger.ShutdownReport(_trigger, _drainStartedUtc, f.WaitOutcome, f.WaitSeconds, f.LowerRate, f.ConclusiveSilence,
            lastArrival, f.InFlightAtServerDrain, f.ServerDrainSeconds, f.Aborted, f.Deadline, timeline);
    }
}

/// <summary>The named facts of the exit line (the timeline has the rest).</summary>
internal sealed class ShutdownFacts
{
    public string WaitOutcome { get; set; } = "none";

    public double WaitSeconds { get; set; }

    public double LowerRate { get; set; }

    /// <summary>
    /// Gets or sets the conclusive silence as text ("0.25 s", or "none (no traffic seen)"): with no traffic it is infinite, and
    /// a non-finite number in a log state breaks JSON log formatters (System.Text.Json cannot write it).
    /// </summary>
    public string ConclusiveSilence { get; set; } = "none";

    /// <summary>Gets or sets when the last request arrived, from the drain start; −1 for none.</summary>
    public double LastArrivalSeconds { get; set; } = -1;

    public long InFlightAtServerDrain { get; set; }

    public double ServerDrainSeconds { get; set; }

    public long Aborted { get; set; }

    /// <summary>Gets or sets which deadline ruled: the configured grace period, or the platform's (<see cref="ITerminationFacts"/>).</summary>
    public string Deadline { get; set; } = "configured";
}
