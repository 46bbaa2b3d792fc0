using System.Diagnostics.Metrics;

namespace GracefulShutdown.Kubernetes.Diagnostics;

/// <summary>The add-on's instruments, on the meter named <c>GracefulShutdown.Kubernetes</c>.</summary>
internal sealed class KubernetesMetrics
{
    public const string MeterName = "GracefulShutdown.Kubernetes";

    private readonly Counter<long> _calls;
    private int _lastEndpoint;

    public KubernetesMetrics(IMeterFactory meterFactory)
    {
        // The factory owns and disposes the meter.
        Meter meter = meterFactory.Create(MeterName);
        _calls = meter.CreateCounter<long>("graceful_shutdown.kubernetes.calls", "{call}",
            "Calls to the Kubernetes API, tagged with the resource (pods, endpointslices), the operation (list, watch) and the outcome " +
            "(success, gone, unreachable, timed_out, unauthorized, forbidden, malformed, failed).");
        meter.CreateObservableGauge("graceful_shutdown.kubernetes.last_endpoint", () => Volatile.Read(ref _lastEndpoint), null,
            "1 while this pod is the last ready endpoint of a Service that selects it (readiness is held while draining), else 0.");
    }

    public void RecordCall(string resource, string operation, string outcome) =>
        _calls.Add(1, new KeyValuePair<string, object?>("resource", resource), new KeyValuePair<string, object?>("operation", operation),
            new KeyValuePair<string, object?>("outcome", outcome));

    public void LastEndpoint(bool last) => Volatile.Write(ref _lastEndpoint, last ? 1 : 0);
}
