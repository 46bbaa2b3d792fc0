using k8s;

namespace GracefulShutdown.Kubernetes.Watching;

/// <summary>What a <see cref="ResourceWatch{T}"/> tells the facts built on it.</summary>
internal interface IResourceConsumer<in T>
{
    /// <summary>A list: these are all the objects now (after start, a 410 Gone or a fault).</summary>
    void Replace(IReadOnlyList<T> items);

    /// <summary>A watch event (ADDED, MODIFIED, DELETED).</summary>
    void Apply(WatchEventType type, T item);

    /// <summary>The API failed: what depends on fresh data is withdrawn until the next list.</summary>
    void Lost();
}
