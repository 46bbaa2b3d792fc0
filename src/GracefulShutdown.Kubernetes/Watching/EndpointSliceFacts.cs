using System.Globalization;
using GracefulShutdown.Kubernetes.Diagnostics;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace GracefulShutdown.Kubernetes.Watching;

/// <summary>
/// Keeps the EndpointSlices of the namespace and reads two facts from those that list this pod (by <c>targetRef</c>):
/// <list type="bullet">
/// <item><b>Am I the last?</b> While a Service that selects this pod (label <c>kubernetes.io/service-name</c>) has no other
/// ready endpoint, kube-proxy falls back to serving terminating endpoints (KEP-1669): readiness is held
/// (<see cref="ITerminationFacts.HoldReadiness"/>) so this pod stays one of them; it is released as soon as another endpoint
/// of every such Service is ready, or when the API fails (the facts are not fresh any more).</item>
/// <item><b>t0.</b> The first time a slice shows this pod's endpoint terminating, or not ready after it had been ready
/// (deleted pods turn <c>ready=false</c>, <c>terminating=true</c> at once; a new pod's endpoint is not ready until its
/// readiness first passes, which is not counted), a report step says so: what each balancer did after it can be read
/// against it.</item>
/// </list>
/// </summary>
internal sealed class EndpointSliceFacts : IResourceConsumer<V1EndpointSlice>, IDisposable
{
    /// <summary>The label the EndpointSlice controller puts on each slice: the Service's name.</summary>
    public const string ServiceNameLabel = "kubernetes.io/service-name";

    private readonly string _podName;
    private readonly ITerminationFacts _facts;
    private readonly IGracefulShutdownReport _report;
    private readonly IGracefulShutdown _shutdown;
    private readonly TimeProvider _time;
    private CancellationTokenRegistration _reportAtDrain;
    private readonly KubernetesOptions _options;
    private readonly KubernetesMetrics _metrics;
    private readonly ILogger _logger;
    private readonly Lock _sync = new();
    private readonly Dictionary<string, V1EndpointSlice> _slices = new(StringComparer.Ordinal);
    private IDisposable? _hold;
    private bool _publishedNotReady;
    private bool _seenReady;

    public EndpointSliceFacts(string podName, ITerminationFacts facts, IGracefulShutdownReport report, IGracefulShutdown shutdown,
        KubernetesOptions options, TimeProvider time, KubernetesMetrics metrics, ILogger<EndpointSliceFacts> logger)
    {
        _shutdown = shutdown;
        _time = time;
        _podName = podName;
        _facts = facts;
        _report = report;
        _options = options;
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>Gets whether readiness is held now.</summary>
    public bool Holding
    {
        get
        {
            lock (_sync)
            {
                return _hold is not null;
            }
        }
    }

    public void Replace(IReadOnlyList<V1EndpointSlice> items)
    {
        lock (_sync)
        {
            _slices.Clear();
            foreach (V1EndpointSlice slice in items)
            {
                if (slice.Metadata?.Name is string name)
                {
                    _slices[name] = slice;
                }
            }

            Recompute();
        }
    }

    public void Apply(WatchEventType type, V1EndpointSlice item)
    {
        if (item.Metadata?.Name is not string name)
        {
            return;
        }

        lock (_sync)
        {
            if (type == WatchEventType.Deleted)
            {
                _slices.Remove(name);
            }
            else
            {
                _slices[name] = item;
            }

            Recompute();
        }
    }

    public void Lost()
    {
        lock (_sync)
        {
            _slices.Clear();
            Release("the Kubernetes API did not answer");
        }
    }

    public void Dispose()
    {
        _reportAtDrain.Dispose();
        lock (_sync)
        {
            _hold?.Dispose();
            _hold = null;
        }
    }

    private bool IsThisPod(V1Endpoint endpoint) =>
        endpoint.TargetRef is { Kind: "Pod" } target && string.Equals(target.Name, _podName, StringComparison.Ordinal);

    // EndpointConditions: "a nil value should be interpreted as ready" (discovery.k8s.io/v1).
    private static bool IsReady(V1Endpoint endpoint) => endpoint.Conditions?.Ready ?? true;

    private void Recompute()
    {
        var services = new SortedSet<string>(StringComparer.Ordinal);
        foreach (V1EndpointSlice slice in _slices.Values)
        {
            V1Endpoint? mine = slice.Endpoints?.FirstOrDefault(IsThisPod);
            if (mine is null)
            {
                continue;
            }

            if (slice.Metadata?.Labels?.TryGetValue(ServiceNameLabel, out string? service) == true && service is not null)
            {
                services.Add(service);
            }

            NoteNotReady(slice, mine);
        }

        // Last for a Service: none of its slices lists another ready endpoint.
        string[] lastOf = [.. services.Where(service => !_slices.Values
            .Where(s => s.Metadata?.Labels?.TryGetValue(ServiceNameLabel, out string? name) == true && name == service)
            .SelectMany(static s => s.Endpoints ?? [])
            .Any(e => !IsThisPod(e) && IsReady(e)))];

        if (lastOf.Length > 0 && _options.HoldReadinessWhileLastEndpoint)
        {
            if (_hold is null)
            {
                string names = string.Join(", ", lastOf);
                _logger.LastEndpoint(names);
                _hold = _facts.HoldReadiness("this pod is the last ready endpoint of Service " + names +
                    " (kube-proxy keeps routing to it while it is serving)");
                _metrics.LastEndpoint(true);
            }
        }
        else
        {
            Release(services.Count == 0 ? "no EndpointSlice lists this pod" : "another endpoint is ready");
        }
    }

    private void Release(string why)
    {
        if (_hold is null)
        {
            return;
        }

        _logger.NoLongerLastEndpoint(why);
        _hold.Dispose();
        _hold = null;
        _metrics.LastEndpoint(false);
    }

    private void NoteNotReady(V1EndpointSlice slice, V1Endpoint mine)
    {
        bool ready = IsReady(mine);
        bool terminating = mine.Conditions?.Terminating ?? false;
        if (ready && !terminating)
        {
            _seenReady = true;
            return;
        }

        // A new pod's endpoint is listed not ready until its readiness first passes: that is start-up, not the change to report.
        if (_publishedNotReady || (!terminating && !_seenReady))
        {
            return;
        }

        _publishedNotReady = true;
        bool serving = mine.Conditions?.Serving ?? ready;
        string sliceName = slice.Metadata?.Name ?? "?";
        _logger.EndpointNotReady(sliceName, ready, serving, terminating);
        string trigger = slice.Metadata?.Annotations?.TryGetValue("endpoints.kubernetes.io/last-change-trigger-time", out string? at) == true
            ? "; last change trigger " + at
            : "";
        string step = string.Create(CultureInfo.InvariantCulture,
            $"EndpointSlice {sliceName} shows this endpoint ready={ready}, serving={serving}, terminating={terminating}{trigger}");
        if (_shutdown.DrainStarted.IsCancellationRequested)
        {
            _report.Add("kubernetes", step);
            return;
        }

        // Seen before the drain began (the preStop hook or the signal comes a little after the deletion): the report starts at
        // the drain, so the step is added then, with the moment it was seen.
        string seenAt = string.Create(CultureInfo.InvariantCulture, $"{step} (seen at {_time.GetUtcNow():O}, before the drain)");
        _reportAtDrain = _shutdown.DrainStarted.Register(() => _report.Add("kubernetes", seenAt));
    }
}
