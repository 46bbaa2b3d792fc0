using System.Diagnostics.Metrics;
using GracefulShutdown.Lifecycle;

namespace GracefulShutdown.Diagnostics;

/// <summary>
/// Every instrument of the core package, on the meter named <see cref="GracefulShutdownTelemetry.MeterName"/>. Names, units and
/// descriptions are a public contract (dashboards and alerts key on them): never rename.
/// </summary>
internal sealed class GracefulShutdownMetrics
{
    private readonly Meter _meter;
    private readonly Counter<long> _drainRequests;
    private readonly Histogram<double> _trafficWaitDuration;
    private readonly Histogram<double> _trafficWaitLastArrival;
    private readonly Counter<long> _webSocketsClosed;
    private readonly Counter<long> _webSocketsAborted;
    private readonly Histogram<double> _drainDuration;
    private readonly Counter<long> _drainAbortedRequests;
    private readonly Histogram<double> _checkerLetGo;
    private readonly Counter<long> _checkersHeld;

    public GracefulShutdownMetrics(IMeterFactory meterFactory)
    {
        // The factory owns and disposes the meter.
        _meter = meterFactory.Create(GracefulShutdownTelemetry.MeterName);
        _drainRequests = _meter.CreateCounter<long>("graceful_shutdown.drain.requests", "{request}",
            "Requests that arrived after the drain began; each got its answer with Connection: close.");
        _trafficWaitDuration = _meter.CreateHistogram<double>("graceful_shutdown.traffic_wait.duration", "s",
            "How long the application kept serving after the drain began, tagged with why the wait ended.");
        _trafficWaitLastArrival = _meter.CreateHistogram<double>("graceful_shutdown.traffic_wait.last_arrival", "s",
            "For each caller that still sent requests after the drain began, when its last request arrived, from the drain start.");
        _webSocketsClosed = _meter.CreateCounter<long>("graceful_shutdown.websockets.closed", "{websocket}",
            "WebSockets the library closed with 1001 (going away) when the traffic wait was over, whose closing handshake completed.");
        _webSocketsAborted = _meter.CreateCounter<long>("graceful_shutdown.websockets.aborted", "{websocket}",
            "WebSockets still open at Connections:CloseTimeout after their close began; they were aborted.");
        _drainDuration = _meter.CreateHistogram<double>("graceful_shutdown.drain.duration", "s",
            "How long in-flight requests took to finish once the server stopped accepting connections.");
        _drainAbortedRequests = _meter.CreateCounter<long>("graceful_shutdown.drain.aborted_requests", "{request}",
            "Requests still in flight when the drain timeout aborted them.");
        _checkerLetGo = _meter.CreateHistogram<double>("graceful_shutdown.health_checker.let_go", "s",
            "For each load balancer health checker seen before the drain, when it let go (its unhealthy threshold of failures plus its " +
            "balancer's apply lag, or it stopped probing), from the drain start; tagged with its profile and how.");
        _checkersHeld = _meter.CreateCounter<long>("graceful_shutdown.health_checker.held", "{checker}",
            "Load balancer health checkers seen before the drain that had not let go when the traffic wait ended; tagged with the profile.");
    }

    // The observable instruments read the state they observe, which registers itself: the state is created after this class
    // (it reports to the observer, which records here), so it cannot be passed in.

    /// <summary>Observes the lifecycle phase (<see cref="GracefulShutdownPhase"/> as a number).</summary>
    public void ObservePhase(Func<int> phase) =>
        _meter.CreateObservableGauge("graceful_shutdown.phase", phase, null,
            "The lifecycle phase: 0 starting, 1 running, 2 draining (traffic wait), 3 stopping (server drain), 4 stopped.");

    /// <summary>Observes the application's requests in flight.</summary>
    public void ObserveRequestsInFlight(Func<long> inFlight) =>
        _meter.CreateObservableUpDownCounter("graceful_shutdown.requests.in_flight", inFlight, "{request}",
            "Requests the application is serving now, not counting its own probe and preStop endpoints.");

    /// <summary>Observes the units of work in progress.</summary>
    public void ObserveWorkInProgress(Func<int> count) =>
        _meter.CreateObservableUpDownCounter("graceful_shutdown.work.in_progress", count, "{unit}",
            "Units of non-HTTP work begun with IGracefulShutdown.BeginWork and not yet finished.");

    /// <summary>Counts a request that arrived after the drain began (the per-request hot path: one counter add).</summary>
    public void AddDrainRequest() => _drainRequests.Add(1);

    public void RecordTrafficWait(TrafficWaitOutcome outcome, double seconds) =>
        _trafficWaitDuration.Record(seconds, new KeyValuePair<string, object?>("outcome", outcome.ToString()));

    public void RecordLateCallerLastArrival(double seconds) => _trafficWaitLastArrival.Record(seconds);

    public void AddWebSocketsClosed(long count) => _webSocketsClosed.Add(count);

    public void AddWebSocketsAborted(long count) => _webSocketsAborted.Add(count);

    public void RecordServerDrain(double seconds) => _drainDuration.Record(seconds);

    public void AddAbortedRequests(long count) => _drainAbortedRequests.Add(count);

    public void RecordCheckerLetGo(string profile, bool byFailures, double seconds) =>
        _checkerLetGo.Record(seconds, new KeyValuePair<string, object?>("profile", profile),
            new KeyValuePair<string, object?>("how", byFailures ? "failures" : "stopped"));

    public void AddCheckerHeld(string profile) => _checkersHeld.Add(1, new KeyValuePair<string, object?>("profile", profile));
}
