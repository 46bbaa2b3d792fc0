using System.Diagnostics.Metrics;

namespace GracefulShutdown.Eureka.Internal;

/// <summary>The client's instruments, on the meter named <c>GracefulShutdown.Eureka</c>.</summary>
internal sealed class EurekaMetrics
{
    public const string MeterName = "GracefulShutdown.Eureka";

    public EurekaMetrics(IMeterFactory meterFactory, EurekaRegistrationState state)
    {
        // The factory owns and disposes the meter.
        Meter meter = meterFactory.Create(MeterName);
        meter.CreateObservableGauge("graceful_shutdown.eureka.registration.status", () => (int)state.Registration, null,
            "The registration as this client last confirmed it: 0 off, 1 not registered, 2 STARTING, 3 UP, 4 OUT_OF_SERVICE, 5 deregistered.");
        Calls = meter.CreateCounter<long>("graceful_shutdown.eureka.calls", "{call}",
            "Calls to a Eureka server, tagged with the operation and the outcome (success, not_found, rejected, failed, timed_out).");
        CallDuration = meter.CreateHistogram<double>("graceful_shutdown.eureka.call.duration", "s",
            "How long one call to one Eureka server took, tagged with the operation and the outcome.");
    }

    public Counter<long> Calls { get; }

    public Histogram<double> CallDuration { get; }

    public void RecordCall(string operation, EurekaCallOutcome outcome, double seconds)
    {
        var operationTag = new KeyValuePair<string, object?>("operation", operation);
        var outcomeTag = new KeyValuePair<string, object?>("outcome", OutcomeTag(outcome));
        Calls.Add(1, operationTag, outcomeTag);
        CallDuration.Record(seconds, operationTag, outcomeTag);
    }

    internal static string OutcomeTag(EurekaCallOutcome outcome) => outcome switch
    {
        EurekaCallOutcome.Success => "success",
        EurekaCallOutcome.NotFound => "not_found",
        EurekaCallOutcome.Rejected => "rejected",
        EurekaCallOutcome.TimedOut => "timed_out",
        _ => "failed",
    };
}
