using GracefulShutdown.Kubernetes.Api;
using GracefulShutdown.Kubernetes.Diagnostics;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace GracefulShutdown.Kubernetes.Watching;

/// <summary>
/// List, then watch from the list's resource version, as informers do: a watch the server ends (its <c>timeoutSeconds</c>, a
/// proxy's cut) is opened again from the last resource version seen (events and bookmarks); 410 Gone lists again; any other
/// fault withdraws the facts (<see cref="IResourceConsumer{T}.Lost"/>), waits a delay that doubles from <c>RetryDelay</c> to
/// <c>RetryDelayMaximum</c> (on the <see cref="TimeProvider"/>) and lists again. Every call is bounded: a list or the opening
/// of a watch by <c>RequestTimeout</c>, a watch by <c>WatchTimeout</c> + <c>RequestTimeout</c>.
/// </summary>
internal sealed class ResourceWatch<T>(
    string resource,
    Func<CancellationToken, Task<ResourceList<T>>> list,
    Func<string, int, CancellationToken, Task<IAsyncEnumerable<WatchEvent<T>>>> watch,
    IResourceConsumer<T> consumer,
    KubernetesOptions options,
    TimeProvider time,
    ApiFaults faults,
    KubernetesMetrics metrics,
    ILogger logger)
    where T : IKubernetesObject<V1ObjectMeta>
{
    public async Task RunAsync(CancellationToken stopping)
    {
        string? resourceVersion = null;
        int failures = 0;
        bool faulted = false;
        while (!stopping.IsCancellationRequested)
        {
            string operation = resourceVersion is null ? "list" : "watch";
            using var bound = new CancellationTokenSource(options.RequestTimeout, time);
            using var call = CancellationTokenSource.CreateLinkedTokenSource(bound.Token, stopping);
            try
            {
                if (resourceVersion is null)
                {
                    ResourceList<T> listed = await list(call.Token).ConfigureAwait(false);
                    metrics.RecordCall(resource, operation, "success");
                    consumer.Replace(listed.Items);
                    resourceVersion = listed.ResourceVersion;
                    failures = 0;
                    if (faulted)
                    {
                        faulted = false;
                        logger.Recovered(resource);
                    }

                    operation = "watch";
                    bound.CancelAfter(options.RequestTimeout);
                }

                long opened = time.GetTimestamp();
                int timeoutSeconds = (int)Math.Max(1, Math.Min(int.MaxValue, options.WatchTimeout.TotalSeconds));
                IAsyncEnumerable<WatchEvent<T>> events = await watch(resourceVersion, timeoutSeconds, call.Token).ConfigureAwait(false);
                metrics.RecordCall(resource, operation, "success");

                // Open: the server ends it after timeoutSeconds; ours ends it if the server goes silent past that.
                bound.CancelAfter(options.WatchTimeout + options.RequestTimeout);
                int count = 0;
                await foreach (WatchEvent<T> e in events.WithCancellation(call.Token).ConfigureAwait(false))
                {
                    count++;
                    if (e.Object is null)
                    {
                        throw new KubernetesApiException(0, "a watch event has no object");
                    }

                    if (e.Type == WatchEventType.Error)
                    {
                        // An ERROR event the client passed on as an object: the watch cannot go on from here; list again.
                        throw new KubernetesApiException(410, "the watch sent an ERROR event");
                    }

                    if (e.Type != WatchEventType.Bookmark)
                    {
                        consumer.Apply(e.Type, e.Object);
                    }

                    resourceVersion = e.Object.Metadata?.ResourceVersion is { Length: > 0 } seen ? seen : resourceVersion;
                }

                logger.WatchReopened(resource, count, resourceVersion);

                // A server that ends every watch at once is not called in a loop.
                if (count == 0 && time.GetElapsedTime(opened) < options.RetryDelay)
                {
                    await Task.Delay(options.RetryDelay, time, stopping).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // Whatever the API does, the application goes on as without the add-on.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                bool timedOut = ex is OperationCanceledException && bound.IsCancellationRequested;
                string fault = ApiFaults.Classify(ex, timedOut);
                metrics.RecordCall(resource, operation, fault);
                if (fault == "gone" && failures == 0)
                {
                    // The resource version is too old: list again at once (a second 410 in a row backs off like any fault).
                    logger.WatchExpired(resource);
                    resourceVersion = null;
                    failures++;
                    continue;
                }

                resourceVersion = null;
                consumer.Lost();
                faulted = true;
                TimeSpan delay = RetryDelay(failures++);
                faults.Report(operation, resource, fault, ex, delay);
                try
                {
                    await Task.Delay(delay, time, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private TimeSpan RetryDelay(int failures)
    {
        double factor = Math.Pow(2, Math.Min(failures, 30));
        double ticks = Math.Min(options.RetryDelay.Ticks * factor, options.RetryDelayMaximum.Ticks);
        return TimeSpan.FromTicks((long)ticks);
    }
}
