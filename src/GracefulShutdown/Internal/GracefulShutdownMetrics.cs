using System.Diagnostics.Metrics;

namespace GracefulShutdown.Internal;

/// <summary>
/// The library's instruments, on the meter named <c>GracefulShutdown</c>. Nothing here is touched per request except
/// <see cref="RequestsWhileDraining"/>, and only while draining.
/// </summary>
internal sealed class GracefulShutdownMetrics
{
    public const string MeterName = "GracefulShutdown";

    public GracefulShutdownMetrics(IMeterFactory meterFactory, Func<long> inFlight, Func<int> phase)
    {
        // The factory owns and disposes the meter.
        Meter meter = meterFactory.Create(MeterName);

        meter.CreateObservableUpDownCounter("graceful_shutdown.requests.in_flight", inFlight, "{request}",
            "Requests the application is serving now, not counting its own probe and preStop endpoints.");
        meter.CreateObservableGauge("graceful_shutdown.phase", phase, null,
            "The lifecycle phase: 0 starting, 1 running, 2 draining (traffic wait), 3 stopping (server drain), 4 stopped.");
        RequestsWhileDraining = meter.CreateCounter<long>("graceful_shutdown.drain.requests", "{request}",
            "Requests that arrived after the drain began; each got its answer with Connection: close.");
        TrafficWaitDuration = meter.CreateHistogram<double>("graceful_shutdown.traffic_wait.duration", "s",
            "How long the application kept serving after the drain began, tagged with why the wait ended.");
        DrainDuration = meter.CreateHistogram<double>("graceful_shutdown.drain.duration", "s",
            "How long in-flight requests took to finish once the server stopped accepting connections.");
        AbortedRequests = meter.CreateCounter<long>("graceful_shutdown.drain.aborted_requests", "{request}",
            "Requests still in flight when the drain timeout aborted them.");
    }

    public Counter<long> RequestsWhileDraining { get; }

    public Histogram<double> TrafficWaitDuration { get; }

    public Histogram<double> DrainDuration { get; }

    public Counter<long> AbortedRequests { get; }
}
