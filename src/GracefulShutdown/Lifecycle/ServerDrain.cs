using System.Diagnostics.Metrics;
using System.Globalization;
using GracefulShutdown.Diagnostics;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GracefulShutdown.Lifecycle;

/// <summary>
/// Stops the server with the library's own deadline rather than the remainder of the host's shared <c>ShutdownTimeout</c>,
/// so that the drain gets exactly <c>DrainTimeout</c> however long the traffic wait took (less what the drain participants,
/// such as closing long-lived connections, used of it). The host's own later <c>IServer.StopAsync</c> call then finds the server stopped.
/// </summary>
internal sealed class ServerDrain
{
    private readonly LifecycleState _state;
    private readonly RequestTracker _requests;
    private readonly IServiceProvider _services;
    private readonly ShutdownBudgetSource _budget;
    private readonly TimeProvider _time;
    private readonly ShutdownReport _report;
    private readonly ILogger _logger;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _aborted;

    public ServerDrain(LifecycleState state, RequestTracker requests, IServiceProvider services, ShutdownBudgetSource budget,
        TimeProvider time, ShutdownReport report, ILogger<ServerDrain> logger, IMeterFactory meterFactory)
    {
        _report = report;
        _state = state;
        _requests = requests;
        _services = services;
        _budget = budget;
        _time = time;
        _logger = logger;
        Meter meter = meterFactory.Create(GracefulShutdownTelemetry.MeterName);
        _duration = meter.CreateHistogram<double>("graceful_shutdown.drain.duration", "s",
            "How long in-flight requests took to finish once the server stopped accepting connections.");
        _aborted = meter.CreateCounter<long>("graceful_shutdown.drain.aborted_requests", "{request}",
            "Requests still in flight when the drain timeout aborted them.");
    }

    /// <param name="spent">The part of the drain timeout already used (the drain participants).</param>
    /// <param name="cancellationToken">The host's stop token.</param>
    public async Task RunAsync(TimeSpan spent, CancellationToken cancellationToken)
    {
        ShutdownBudget budget = _budget.Current;
        TimeSpan remaining = budget.ServerDrainTime(spent);
        _state.EnterStopping(budget.DrainDeadline(remaining));
        long inFlight = _requests.InFlight;
        _logger.ServerDrainStarted(inFlight, remaining);
        _report.Facts.InFlightAtServerDrain = inFlight;
        _report.Add("server", string.Create(CultureInfo.InvariantCulture, $"stopped accepting connections, {inFlight} requests in flight"));

        // Resolved late: the server is registered by the web host, after this library.
        if (_services.GetService<IServer>() is not IServer server)
        {
            return;
        }

        long start = _time.GetTimestamp();
        long inFlightAtDeadline = -1;
        using var deadline = new CancellationTokenSource(remaining, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken);
        using (linked.Token.Register(() => Interlocked.Exchange(ref inFlightAtDeadline, _requests.InFlight)))
        {
            try
            {
                await server.StopAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The deadline passed; the server aborted what was left.
            }
        }

        double elapsed = _time.GetElapsedTime(start).TotalSeconds;
        _duration.Record(elapsed);
        long aborted = Math.Max(0, Interlocked.Read(ref inFlightAtDeadline));
        _report.Facts.ServerDrainSeconds = elapsed;
        _report.Facts.Aborted = aborted;
        _report.Add("server", string.Create(CultureInfo.InvariantCulture, $"stopped after {elapsed:0.000} s, {aborted} requests aborted"));
        if (aborted > 0)
        {
            _aborted.Add(aborted);
            _logger.DrainTimeoutReached(budget.DrainTimeout, aborted);
        }
        else
        {
            _logger.ServerDrainCompleted(elapsed);
        }
    }
}
