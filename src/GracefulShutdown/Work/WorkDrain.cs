using System.Diagnostics.Metrics;
using GracefulShutdown.Diagnostics;
using Microsoft.Extensions.Logging;

namespace GracefulShutdown.Work;

/// <summary>Waits, during the server drain, for the work begun with <c>IGracefulShutdown.BeginWork</c>; names what is left at the deadline.</summary>
internal sealed class WorkDrain
{
    private readonly WorkTracker _work;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ShutdownReport _report;

    public WorkDrain(WorkTracker work, TimeProvider time, ShutdownReport report, ILogger<WorkDrain> logger, IMeterFactory meterFactory)
    {
        _report = report;
        _work = work;
        _time = time;
        _logger = logger;
        meterFactory.Create(GracefulShutdownTelemetry.MeterName).CreateObservableUpDownCounter("graceful_shutdown.work.in_progress",
            () => _work.Count, "{unit}", "Units of non-HTTP work begun with IGracefulShutdown.BeginWork and not yet finished.");
    }

    /// <summary>Waits until no work runs, at most <paramref name="timeout"/>. Returns whether all work finished.</summary>
    public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (_work.Count == 0)
        {
            return true;
        }

        string running = _work.Describe();
        _logger.WaitingForWork(running);
        _report.Add("work", "waiting for " + running);
        try
        {
            await _work.WhenIdle().WaitAsync(timeout < TimeSpan.Zero ? TimeSpan.Zero : timeout, _time, cancellationToken).ConfigureAwait(false);
            _report.Add("work", "done");
            return true;
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            string left = _work.Describe();
            _logger.WorkOutstanding(left);
            _report.Add("work", "still running at the deadline: " + left);
            return false;
        }
    }
}
