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
/// by <c>RequestTimeout</c>, a watch by <c>WatchTimeout</c> + <c>RequestTimeout</c> — its opening included, since the client
/// returns the response only once the first line (an event or a bookmark) has come.
/// </summary>
/// <remarks>
/// A watch whose connection breaks (not an API error) is opened again from the last resource version without a word; only a
/// second break in a row with no event between them counts as a fault (the server is gone, not the connection).
/// </remarks>
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
        int breaksInARow = 0;
        bool faulted = false;
        while (!stopping.IsCancellationRequested)
        {
            string operation = resourceVersion is null ? "list" : "watch";
            using var bound = new CancellationTokenSource(options.RequestTimeout, time);
            using var call = CancellationTokenSource.CreateLinkedTokenSource(bound.Token, stopping);
            int count = 0;
            long opened = 0;
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
                }

                // The client answers once the first line has come; a quiet pod may send none before the server's first bookmark.
                bound.CancelAfter(options.WatchTimeout + options.RequestTimeout);

                opened = time.GetTimestamp();
                int timeoutSeconds = (int)Math.Max(1, Math.Min(int.MaxValue, options.WatchTimeout.TotalSeconds));
                IAsyncEnumerable<WatchEvent<T>> events = await watch(resourceVersion, timeoutSeconds, call.Token).ConfigureAwait(false);
                metrics.RecordCall(resource, operation, "success");
                await foreach (WatchEvent<T> e in events.WithCancellation(call.Token).ConfigureAwait(false))
                {
                    count++;
                    breaksInARow = 0;
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
                breaksInARow = 0;

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
                if (operation == "watch" && !timedOut && ex is not KubernetesApiException && breaksInARow++ == 0)
                {
                    // The connection of an open watch broke (a proxy, the server going away): open it again from the last
                    // resource version; only if that fails is it a fault.
                    logger.WatchDropped(resource, count, resourceVersion, ex.Message);
                    if (count == 0 && time.GetElapsedTime(opened) < options.RetryDelay)
                    {
                        try
                        {
                            await Task.Delay(options.RetryDelay, time, stopping).ConfigureAwait(false);
                        }
                        catch (OperationCanceledException)
                        {
                            return;
                        }
                    }

                    continue;
                }

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
