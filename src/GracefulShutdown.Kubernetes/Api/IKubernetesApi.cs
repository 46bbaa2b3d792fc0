using k8s;
using k8s.Models;

namespace GracefulShutdown.Kubernetes.Api;

/// <summary>
/// The four API calls the add-on makes: list and watch this pod (by <c>metadata.name</c>), list and watch the EndpointSlices of
/// its namespace. A seam over <c>KubernetesClient</c> so the watch loop is tested without a server.
/// </summary>
/// <remarks>
/// Failures are exceptions: <see cref="KubernetesApiException"/> for an HTTP status, a watch <c>ERROR</c> event (410 Gone) or
/// a body that does not parse; any other exception means the server was not reached.
/// </remarks>
internal interface IKubernetesApi
{
    Task<ResourceList<V1Pod>> ListPodAsync(string podNamespace, string podName, CancellationToken cancellationToken);

    /// <summary>Opens the watch (the returned task completes with the response headers); the events follow.</summary>
    Task<IAsyncEnumerable<WatchEvent<V1Pod>>> WatchPodAsync(string podNamespace, string podName, string resourceVersion, int timeoutSeconds,
        CancellationToken cancellationToken);

    Task<ResourceList<V1EndpointSlice>> ListEndpointSlicesAsync(string podNamespace, CancellationToken cancellationToken);

    Task<IAsyncEnumerable<WatchEvent<V1EndpointSlice>>> WatchEndpointSlicesAsync(string podNamespace, string resourceVersion, int timeoutSeconds,
        CancellationToken cancellationToken);
}

/// <summary>The items of a list and the resource version to watch from.</summary>
internal sealed record ResourceList<T>(IReadOnlyList<T> Items, string ResourceVersion);

/// <summary>One watch event: ADDED, MODIFIED, DELETED or BOOKMARK (only its resource version counts).</summary>
internal readonly record struct WatchEvent<T>(WatchEventType Type, T Object);

/// <summary>The API answered with an error: an HTTP status, a watch <c>ERROR</c> event, or a body that does not parse (status 0).</summary>
internal sealed class KubernetesApiException : Exception
{
    public KubernetesApiException()
    {
    }

    public KubernetesApiException(string message)
        : base(message)
    {
    }

    public KubernetesApiException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public KubernetesApiException(int statusCode, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
    }

    /// <summary>Gets the HTTP status (or the watch error's code); 0 for a body that does not parse.</summary>
    public int StatusCode { get; }
}
