using System.Diagnostics.Metrics;
using GracefulShutdown.Eureka.Client;
using GracefulShutdown.Eureka.Registration;

namespace GracefulShutdown.Eureka.Diagnostics;

/// <summary>The client's instruments, on the meter named <c>GracefulShutdown.Eureka</c>.</summary>
internal sealed class EurekaMetrics
{
    public const string MeterName = "GracefulShutdown.Eureka";

    private readonly Counter<long> _calls;
    private readonly Histogram<double> _callDuration;
    private readonly Histogram<double> _cachedViewTurnover;

    public EurekaMetrics(IMeterFactory meterFactory, EurekaRegistrationState state)
    {
        // The factory owns and disposes the meter.
        Meter meter = meterFactory.Create(MeterName);
        meter.CreateObservableGauge("graceful_shutdown.eureka.registration.status", () => (int)state.Registration, null,
            "The registration as this client last confirmed it: 0 off, 1 not registered, 2 STARTING, 3 UP, 4 OUT_OF_SERVICE, 5 deregistered.");
        _calls = meter.CreateCounter<long>("graceful_shutdown.eureka.calls", "{call}",
            "Calls to a Eureka server, tagged with the operation and the outcome (success, not_found, rejected, failed, timed_out).");
        _callDuration = meter.CreateHistogram<double>("graceful_shutdown.eureka.call.duration", "s",
            "How long one call to one Eureka server took, tagged with the operation and the outcome.");
        _cachedViewTurnover = meter.CreateHistogram<double>("graceful_shutdown.eureka.cached_view.turnover", "s",
            "How long after the OUT_OF_SERVICE override every server's cached view (GET apps/{app}) showed the instance out of service.");
    }

    public void RecordCachedViewTurnover(double seconds) => _cachedViewTurnover.Record(seconds);

    public void RecordCall(EurekaOperation operation, EurekaCallOutcome outcome, double seconds)
    {
        var operationTag = new KeyValuePair<string, object?>("operation", operation.ToName());
        var outcomeTag = new KeyValuePair<string, object?>("outcome", outcome.ToName());
        _calls.Add(1, operationTag, outcomeTag);
        _callDuration.Record(seconds, operationTag, outcomeTag);
    }
}
