using System.Threading.Channels;
using GracefulShutdown.Kubernetes.Api;
using k8s;
using k8s.Models;

namespace GracefulShutdown.Kubernetes.Tests;

/// <summary>
/// An <see cref="IKubernetesApi"/> whose answers the test scripts, call by call: each call takes the next scripted answer,
/// or hangs until its token is canceled (an API that does not answer). Every call (and the token it received) is recorded and can
/// be awaited.
/// </summary>
internal sealed class FakeKubernetesApi : IKubernetesApi
{
    private readonly Lock _sync = new();
    private readonly Queue<Func<CancellationToken, Task<object>>> _podLists = new();
    private readonly Queue<Func<CancellationToken, Task<object>>> _podWatches = new();
    private readonly Queue<Func<CancellationToken, Task<object>>> _sliceLists = new();
    private readonly Queue<Func<CancellationToken, Task<object>>> _sliceWatches = new();
    private readonly List<string> _calls = [];
    private readonly List<CancellationToken> _tokens = [];
    private readonly List<(Func<string, bool> Match, TaskCompletionSource Seen)> _waiters = [];

    public IReadOnlyList<string> Calls
    {
        get
        {
            lock (_sync)
            {
                return [.. _calls];
            }
        }
    }

    /// <summary>Gets the token each call received, in the order of <see cref="Calls"/>.</summary>
    public IReadOnlyList<CancellationToken> Tokens
    {
        get
        {
            lock (_sync)
            {
                return [.. _tokens];
            }
        }
    }

    public void PodList(params V1Pod[] pods) => Enqueue(_podLists, _ => Task.FromResult<object>(new ResourceList<V1Pod>(pods, "10")));

    public void PodList(string resourceVersion, params V1Pod[] pods) =>
        Enqueue(_podLists, _ => Task.FromResult<object>(new ResourceList<V1Pod>(pods, resourceVersion)));

    public void PodListFails(Exception exception) => Enqueue(_podLists, _ => Task.FromException<object>(exception));

    /// <summary>Scripts the next pod watch: its events come from the returned channel; completing it ends the watch.</summary>
    public Channel<WatchEvent<V1Pod>> PodWatch()
    {
        var channel = Channel.CreateUnbounded<WatchEvent<V1Pod>>();
        Enqueue(_podWatches, ct => Task.FromResult<object>(channel.Reader.ReadAllAsync(ct)));
        return channel;
    }

    public void PodWatchFails(Exception exception) => Enqueue(_podWatches, _ => Task.FromException<object>(exception));

    public void SliceList(params V1EndpointSlice[] slices) =>
        Enqueue(_sliceLists, _ => Task.FromResult<object>(new ResourceList<V1EndpointSlice>(slices, "20")));

    public Channel<WatchEvent<V1EndpointSlice>> SliceWatch()
    {
        var channel = Channel.CreateUnbounded<WatchEvent<V1EndpointSlice>>();
        Enqueue(_sliceWatches, ct => Task.FromResult<object>(channel.Reader.ReadAllAsync(ct)));
        return channel;
    }

    /// <summary>Completes when a call matching <paramref name="match"/> has been made (now or before).</summary>
    public Task WhenCalled(Func<string, bool> match)
    {
        lock (_sync)
        {
            if (_calls.Any(match))
            {
                return Task.CompletedTask;
            }

            var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((match, seen));
            return seen.Task;
        }
    }

    /// <summary>Completes when the <paramref name="count"/>-th call starting with <paramref name="prefix"/> has been made.</summary>
    public Task WhenCalled(string prefix, int count = 1)
    {
        int seen = 0;
        return WhenCalled(c => c.StartsWith(prefix, StringComparison.Ordinal) && ++seen >= count);
    }

    public async Task<ResourceList<V1Pod>> ListPodAsync(string podNamespace, string podName, CancellationToken cancellationToken) =>
        (ResourceList<V1Pod>)await Next(_podLists, $"list pods {podNamespace}/{podName}", cancellationToken);

    public async Task<IAsyncEnumerable<WatchEvent<V1Pod>>> WatchPodAsync(string podNamespace, string podName, string resourceVersion,
        int timeoutSeconds, CancellationToken cancellationToken) =>
        (IAsyncEnumerable<WatchEvent<V1Pod>>)await Next(_podWatches, $"watch pods {podNamespace}/{podName} rv={resourceVersion} timeout={timeoutSeconds}",
            cancellationToken);

    public async Task<ResourceList<V1EndpointSlice>> ListEndpointSlicesAsync(string podNamespace, CancellationToken cancellationToken) =>
        (ResourceList<V1EndpointSlice>)await Next(_sliceLists, $"list endpointslices {podNamespace}", cancellationToken);

    public async Task<IAsyncEnumerable<WatchEvent<V1EndpointSlice>>> WatchEndpointSlicesAsync(string podNamespace, string resourceVersion,
        int timeoutSeconds, CancellationToken cancellationToken) =>
        (IAsyncEnumerable<WatchEvent<V1EndpointSlice>>)await Next(_sliceWatches, $"watch endpointslices {podNamespace} rv={resourceVersion}",
            cancellationToken);

    private void Enqueue(Queue<Func<CancellationToken, Task<object>>> queue, Func<CancellationToken, Task<object>> answer)
    {
        lock (_sync)
        {
            queue.Enqueue(answer);
        }
    }

    private Task<object> Next(Queue<Func<CancellationToken, Task<object>>> queue, string call, CancellationToken cancellationToken)
    {
        Func<CancellationToken, Task<object>>? answer;
        List<TaskCompletionSource> seen = [];
        lock (_sync)
        {
            _calls.Add(call);
            _tokens.Add(cancellationToken);
            foreach ((Func<string, bool> match, TaskCompletionSource tcs) in _waiters.ToList())
            {
                if (match(call))
                {
                    seen.Add(tcs);
                    _waiters.RemoveAll(w => w.Seen == tcs);
                }
            }

            queue.TryDequeue(out answer);
        }

        foreach (TaskCompletionSource tcs in seen)
        {
            tcs.TrySetResult();
        }

        // No answer scripted: the API does not answer until the caller gives up.
        return answer?.Invoke(cancellationToken) ?? Task.Delay(Timeout.Infinite, cancellationToken).ContinueWith<object>(
            static t => throw new OperationCanceledException(), TaskScheduler.Default);
    }
}

/// <summary>Builders for the API objects the tests feed.</summary>
internal static class Objects
{
    public static V1Pod Pod(string name = "web-1", string resourceVersion = "11", DateTime? deletion = null, long? grace = null,
        params V1PodCondition[] conditions)
    {
        var metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "shop", ResourceVersion = resourceVersion };
        metadata.DeletionTimestamp = deletion;
        metadata.DeletionGracePeriodSeconds = grace;
        return new V1Pod { Metadata = metadata, Status = new V1PodStatus { Conditions = conditions } };
    }

    public static V1Pod Bookmark(string resourceVersion) => new() { Metadata = new V1ObjectMeta { ResourceVersion = resourceVersion } };

    public static V1EndpointSlice Slice(string name, string service, string resourceVersion, params V1Endpoint[] endpoints) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = name,
            NamespaceProperty = "shop",
            ResourceVersion = resourceVersion,
            Labels = new Dictionary<string, string> { ["kubernetes.io/service-name"] = service },
        },
        AddressType = "IPv4",
        Endpoints = endpoints,
    };

    public static V1Endpoint Endpoint(string pod, bool? ready = true, bool? serving = null, bool? terminating = null) => new()
    {
        Addresses = ["10.0.0.1"],
        Conditions = new V1EndpointConditions { Ready = ready, Serving = serving ?? ready, Terminating = terminating },
        TargetRef = new V1ObjectReference { Kind = "Pod", Name = pod, NamespaceProperty = "shop" },
    };

    public static WatchEvent<T> Event<T>(WatchEventType type, T item) => new(type, item);
}
