using System.Globalization;

namespace GracefulShutdown.Testing.Harness;

/// <summary>
/// One simulated rolling update: the balancer, the first replicas, the load, then round by round a new replica per old one
/// (maxSurge 1, maxUnavailable 0) and the old one's termination as Kubernetes does it.
/// </summary>
internal sealed class RolloutRunner<TEntryPoint>(RolloutOptions options)
    where TEntryPoint : class
{
    private readonly TimeProvider _time = options.TimeProvider;
    private readonly FailureCounter _failures = new();
    private readonly List<Replica> _running = [];
    private readonly List<Replica> _all = [];
    private readonly List<ReplicaReport> _terminated = [];
    private readonly Lock _sync = new();
    private int _started;

    public async Task<RolloutReport> RunAsync(CancellationToken cancellationToken)
    {
        long began = _time.GetTimestamp();
        await using Balancer balancer = await Balancer.StartAsync(options, cancellationToken).ConfigureAwait(false);
        using var stopLoad = new CancellationTokenSource();
        using var load = new HttpLoad(options, balancer.Address, _failures);
        WebSocketLoad? webSockets = options.WebSocketClients > 0 ? new WebSocketLoad(options, balancer.Address, _failures) : null;
        Task loading = Task.CompletedTask;
        Task webSocketLoading = Task.CompletedTask;
        Task healthChecks = Task.CompletedTask;
        try
        {
            for (int i = 0; i < options.Replicas; i++)
            {
                _running.Add(await StartReplicaAsync(balancer, cancellationToken).ConfigureAwait(false));
            }

            if (options.Balancer == RolloutBalancer.HealthChecked)
            {
                healthChecks = balancer.RunHealthChecksAsync(stopLoad.Token);
            }

            loading = load.RunAsync(stopLoad.Token);
            webSocketLoading = webSockets?.RunAsync(stopLoad.Token) ?? Task.CompletedTask;
            await Task.Delay(options.SteadyLoad, _time, cancellationToken).ConfigureAwait(false);

            for (int round = 0; round < options.Rounds; round++)
            {
                Replica[] old = [.. _running];
                var terminations = new List<Task>();
                foreach (Replica replica in old)
                {
                    // maxSurge 1, maxUnavailable 0: the old replica's termination begins once its successor is in rotation.
                    _running.Add(await StartReplicaAsync(balancer, cancellationToken).ConfigureAwait(false));
                    _running.Remove(replica);
                    terminations.Add(TerminateAsync(replica, balancer, cancellationToken));
                }

                await Task.WhenAll(terminations).ConfigureAwait(false);
            }

            await Task.Delay(options.SteadyLoad, _time, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await stopLoad.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(loading, webSocketLoading, healthChecks).ConfigureAwait(false);
            // Every replica, including one whose termination an error interrupted (disposing is idempotent and bounded).
            foreach (Replica replica in _all)
            {
                await replica.DisposeAsync().ConfigureAwait(false);
            }
        }

        List<ReplicaReport> terminated;
        lock (_sync)
        {
            terminated = [.. _terminated];
        }

        return new RolloutReport(options, _time.GetElapsedTime(began), load.Sent, load.Succeeded, load.Failed, _failures.Snapshot(),
            webSockets?.Connections ?? 0, webSockets?.Failed ?? 0, webSockets?.Ends ?? new Dictionary<string, long>(), terminated);
    }

    private async Task<Replica> StartReplicaAsync(Balancer balancer, CancellationToken cancellationToken)
    {
        string name = string.Create(CultureInfo.InvariantCulture, $"replica-{Interlocked.Increment(ref _started)}");
        Replica replica = await Replica.StartAsync<TEntryPoint>(name, options, cancellationToken).ConfigureAwait(false);
        _all.Add(replica);
        try
        {
            await balancer.JoinAsync(replica, cancellationToken).ConfigureAwait(false);
            return replica;
        }
        catch
        {
            await replica.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// A pod's termination: the endpoint goes (after the removal lag, or when health checks notice), kubelet calls the preStop
    /// hook, then sends SIGTERM, then SIGKILL at the grace period, all counted from the same moment.
    /// </summary>
    private async Task TerminateAsync(Replica replica, Balancer balancer, CancellationToken cancellationToken)
    {
        balancer.BeginTermination(replica);
        using var grace = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        grace.CancelAfter(options.TerminationGracePeriod);
        Task removal = options.Balancer == RolloutBalancer.RemovalLag
            ? RemoveAfterLagAsync(replica, balancer, cancellationToken)
            : replica.Removed;

        (int? preStopStatus, string? preStopError) = await CallPreStopAsync(replica, grace.Token).ConfigureAwait(false);
        try
        {
            replica.SignalTerminate();
            await replica.Stopped.WaitAsync(grace.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (grace.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            replica.Kill();
        }

        // The balancer keeps routing to the replica, stopped or not, until its model takes it out; health checks fail on a
        // stopped replica, so that removal comes within HealthCheckThreshold intervals.
        await removal.WaitAsync(cancellationToken).ConfigureAwait(false);
        balancer.Forget(replica);
        await replica.DisposeAsync().ConfigureAwait(false);
        lock (_sync)
        {
            _terminated.Add(replica.Report(preStopStatus, preStopError));
        }
    }

    private async Task RemoveAfterLagAsync(Replica replica, Balancer balancer, CancellationToken cancellationToken)
    {
        await Task.Delay(options.RemovalLag, _time, cancellationToken).ConfigureAwait(false);
        balancer.Remove(replica);
    }

    private async Task<(int? Status, string? Error)> CallPreStopAsync(Replica replica, CancellationToken grace)
    {
        if (options.PreStopPath is null)
        {
            return (null, null);
        }

        // kubelet's httpGet hook: straight to the pod, not through the balancer; its answer comes when the app's wait is over.
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        try
        {
            using HttpResponseMessage response = await client.GetAsync(new Uri(replica.Address, options.PreStopPath), grace).ConfigureAwait(false);
            return ((int)response.StatusCode, null);
        }
        catch (HttpRequestException ex)
        {
            return (null, $"failed ({ex.HttpRequestError})");
        }
        catch (OperationCanceledException) when (grace.IsCancellationRequested)
        {
            return (null, "unanswered at the grace period");
        }
    }
}
