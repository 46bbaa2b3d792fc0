using System.Runtime.CompilerServices;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace GracefulShutdown.Kubernetes.Api;

/// <summary>
/// <see cref="IKubernetesApi"/> on the official client: <c>GET /api/v1/namespaces/{ns}/pods?fieldSelector=metadata.name={pod}</c>
/// and <c>GET /apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices</c>, each as a list and then as a watch
/// (<c>watch=true&amp;resourceVersion=…&amp;allowWatchBookmarks=true&amp;timeoutSeconds=…</c>).
/// </summary>
internal sealed class KubernetesClientApi(IKubernetes client) : IKubernetesApi, IDisposable
{
    public async Task<ResourceList<V1Pod>> ListPodAsync(string podNamespace, string podName, CancellationToken cancellationToken)
    {
        V1PodList list = await Call(() => client.CoreV1.ListNamespacedPodAsync(podNamespace, fieldSelector: FieldSelector(podName),
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        return new([.. list.Items ?? []], list.Metadata?.ResourceVersion ?? "");
    }

    public async Task<IAsyncEnumerable<WatchEvent<V1Pod>>> WatchPodAsync(string podNamespace, string podName, string resourceVersion,
        int timeoutSeconds, CancellationToken cancellationToken)
    {
        HttpOperationResponse<V1PodList> response = await Call(() => client.CoreV1.ListNamespacedPodWithHttpMessagesAsync(podNamespace,
            allowWatchBookmarks: true, fieldSelector: FieldSelector(podName), resourceVersion: resourceVersion, timeoutSeconds: timeoutSeconds,
            watch: true, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return Events<V1Pod, V1PodList>(response, cancellationToken);
    }

    public async Task<ResourceList<V1EndpointSlice>> ListEndpointSlicesAsync(string podNamespace, CancellationToken cancellationToken)
    {
        V1EndpointSliceList list = await Call(() => client.DiscoveryV1.ListNamespacedEndpointSliceAsync(podNamespace,
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        return new([.. list.Items ?? []], list.Metadata?.ResourceVersion ?? "");
    }

    public async Task<IAsyncEnumerable<WatchEvent<V1EndpointSlice>>> WatchEndpointSlicesAsync(string podNamespace, string resourceVersion,
        int timeoutSeconds, CancellationToken cancellationToken)
    {
        HttpOperationResponse<V1EndpointSliceList> response = await Call(() => client.DiscoveryV1.ListNamespacedEndpointSliceWithHttpMessagesAsync(
            podNamespace, allowWatchBookmarks: true, resourceVersion: resourceVersion, timeoutSeconds: timeoutSeconds, watch: true,
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        return Events<V1EndpointSlice, V1EndpointSliceList>(response, cancellationToken);
    }

    public void Dispose() => client.Dispose();

    private static string FieldSelector(string podName) => "metadata.name=" + podName;

    /// <summary>Turns the client's failures into <see cref="KubernetesApiException"/>; a failure to reach the server passes through.</summary>
    private static async Task<T> Call<T>(Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (HttpOperationException ex)
        {
            throw new KubernetesApiException((int)(ex.Response?.StatusCode ?? 0), ex.Message, ex);
        }
        catch (JsonException ex)
        {
            throw new KubernetesApiException(0, "the API's answer does not parse: " + ex.Message, ex);
        }
    }

    private static async IAsyncEnumerable<WatchEvent<T>> Events<T, TList>(HttpOperationResponse<TList> response,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // The client reports ERROR events (410 Gone) and lines that do not parse through onError, not as exceptions: the first
        // one ends this watch, so the caller relists or backs off rather than trusting what follows.
        Exception? error = null;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // The obsolete overload on purpose: its replacement (WatchListNamespaced…Async) sends the request lazily inside the
        // enumeration, so the opening of the watch could not be bounded apart from the watch itself.
#pragma warning disable CS0618
        IAsyncEnumerable<(WatchEventType Type, T Object)> events = Task.FromResult(response).WatchAsync<T, TList>(e =>
        {
            Interlocked.CompareExchange(ref error, e, null);
            stop.Cancel();
        }, stop.Token);
#pragma warning restore CS0618
        IAsyncEnumerator<(WatchEventType Type, T Object)> enumerator = events.GetAsyncEnumerator(stop.Token);
        try
        {
            while (true)
            {
                bool next;
                try
                {
                    next = await enumerator.MoveNextAsync().ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (Volatile.Read(ref error) is not null && !cancellationToken.IsCancellationRequested)
                {
                    next = false;
                }
                catch (JsonException ex)
                {
                    throw new KubernetesApiException(0, "a watch event does not parse: " + ex.Message, ex);
                }

                if (Volatile.Read(ref error) is Exception failure)
                {
                    throw failure switch
                    {
                        KubernetesException k => new KubernetesApiException(k.Status?.Code ?? 0, k.Status?.Message ?? k.Message, k),
                        _ => new KubernetesApiException(0, "a watch event does not parse: " + failure.Message, failure),
                    };
                }

                if (!next)
                {
                    yield break;
                }

                yield return new(enumerator.Current.Type, enumerator.Current.Object);
            }
        }
        finally
        {
            await enumerator.DisposeAsync().ConfigureAwait(false);
            response.Dispose();
        }
    }
}
