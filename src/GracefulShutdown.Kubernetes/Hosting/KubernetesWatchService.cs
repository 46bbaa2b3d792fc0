using GracefulShutdown.Kubernetes.Api;
using GracefulShutdown.Kubernetes.Diagnostics;
using GracefulShutdown.Kubernetes.Watching;
using k8s.Models;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulShutdown.Kubernetes.Hosting;

/// <summary>
/// Runs the two watches (this pod; the namespace's EndpointSlices) in the background from start-up until the host stops — that
/// is, through the traffic wait and the drain, when their facts matter. Start-up never waits for the API.
/// </summary>
internal sealed class KubernetesWatchService(
    IKubernetesTargetSource targets,
    ITerminationFacts facts,
    IGracefulShutdownReport report,
    IGracefulShutdown shutdown,
    IOptions<KubernetesOptions> options,
    TimeProvider time,
    ApiFaults faults,
    KubernetesMetrics metrics,
    ILoggerFactory loggers) : IHostedService, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private Task _running = Task.CompletedTask;
    private EndpointSliceFacts? _slices;
    private IDisposable? _api;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (targets.Resolve() is not KubernetesTarget target)
        {
            return Task.CompletedTask;
        }

        KubernetesOptions settings = options.Value;
        ILogger logger = loggers.CreateLogger<KubernetesWatchService>();
        logger.Watching(target.PodNamespace, target.PodName, target.Server, settings.HoldReadinessWhileLastEndpoint);
        _api = target.Api as IDisposable;
        IKubernetesApi api = target.Api;
        var pod = new PodFacts(facts, settings, loggers.CreateLogger<PodFacts>());
        _slices = new EndpointSliceFacts(target.PodName, facts, report, shutdown, settings, time, metrics, loggers.CreateLogger<EndpointSliceFacts>());
        var podWatch = new ResourceWatch<V1Pod>("pods",
            ct => api.ListPodAsync(target.PodNamespace, target.PodName, ct),
            (rv, timeout, ct) => api.WatchPodAsync(target.PodNamespace, target.PodName, rv, timeout, ct),
            pod, settings, time, faults, metrics, logger);
        var sliceWatch = new ResourceWatch<V1EndpointSlice>("endpointslices",
            ct => api.ListEndpointSlicesAsync(target.PodNamespace, ct),
            (rv, timeout, ct) => api.WatchEndpointSlicesAsync(target.PodNamespace, rv, timeout, ct),
            _slices, settings, time, faults, metrics, logger);

        // Off the caller: the host's start goes on at once.
        CancellationToken stopping = _stopping.Token;
        _running = Task.WhenAll(Task.Run(() => podWatch.RunAsync(stopping), CancellationToken.None),
            Task.Run(() => sliceWatch.RunAsync(stopping), CancellationToken.None));
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _running.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The host's stop token fired first: the watches end with the process.
        }
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _stopping.Dispose();
        _slices?.Dispose();
        _api?.Dispose();
    }
}
