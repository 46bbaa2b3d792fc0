using GracefulShutdown.Eureka.Client;
using GracefulShutdown.Eureka.Configuration;
using GracefulShutdown.Eureka.Diagnostics;
using Microsoft.Extensions.Logging;

namespace GracefulShutdown.Eureka.Registration;

/// <summary>
/// Watches the registry as callers fetch it: each server answers <c>GET apps/{app}</c> from its response cache, refreshed on its own
/// timer (30 s by default), so the override reaches callers only once that cache turns over. After the OUT_OF_SERVICE override is
/// confirmed, it reads every server's cached view every <c>cachedViewPollSeconds</c> until each one shows the instance
/// <c>OUT_OF_SERVICE</c>, <c>DOWN</c> or gone, then tells the traffic wait that the registry's callers will have let go by that
/// moment + their registry fetch interval + their load-balancer cache (<see cref="IGracefulShutdownRoutes"/>). It stops when
/// the traffic wait ends; a server that does not answer means no bound, never a longer wait.
/// </summary>
/// <remarks>
/// A key the server's read-only cache does not hold yet is answered with the registry as it is now, while the keys callers read
/// (<c>apps/delta</c>, <c>apps</c>) still show the last refresh. So each server's <c>apps/{app}</c> is read once when the instance
/// goes UP, which puts it in that cache (the server never drops it); a server whose key was not read so before the drain counts
/// only once a read showed the instance UP and a later one did not. Otherwise that server gives no bound.
/// </remarks>
internal sealed class EurekaCachedView : IDisposable
{
    /// <summary>The route's name in the traffic wait and the report.</summary>
    public const string Route = "eureka";

    private readonly EurekaHttpClient _client;
    private readonly IGracefulShutdown _shutdown;
    private readonly IGracefulShutdownRoutes? _routes;
    private readonly IGracefulShutdownReport? _report;
    private readonly EurekaInstanceIdentity _identity;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly EurekaMetrics _metrics;
    private readonly TimeSpan _poll;
    private readonly int _fetchSeconds;
    private readonly int _cacheSeconds;
    private readonly CancellationTokenSource _stopping = new();
    private bool _added;
    private bool _unreadableLogged;
    private Task _watch = Task.CompletedTask;
    private Task _warmup = Task.CompletedTask;
    private bool _watching;

    // Per server: whether its read-only cache holds apps/{app}, so that a read shows the last refresh, not the registry now.
    private KeyState[] _keys = [];

    private enum KeyState
    {
        /// <summary>Not read since the instance went UP: the server may not hold the key, and would answer with the registry now.</summary>
        Cold,

        /// <summary>Read since the instance went UP, before the drain or showing it UP: a later read shows the last refresh.</summary>
        Warm,

        /// <summary>First read during the drain, already out of service: that answer may be newer than callers' fetches; no bound.</summary>
        Unknown,
    }

    public EurekaCachedView(EurekaHttpClient client, IGracefulShutdown shutdown, IGracefulShutdownRoutes? routes, IGracefulShutdownReport? report,
        EurekaClientOptions options, EurekaInstanceIdentity identity, TimeProvider time, ILogger logger, EurekaMetrics metrics)
    {
        _client = client;
        _shutdown = shutdown;
        _routes = routes;
        _report = report;
        _identity = identity;
        _time = time;
        _logger = logger;
        _metrics = metrics;
        _poll = TimeSpan.FromSeconds(options.CachedViewPollSeconds);
        _fetchSeconds = options.CallerFetchIntervalSeconds;
        _cacheSeconds = options.CallerLoadBalancerCacheSeconds;
    }

    private bool Enabled => _routes is not null && _poll > TimeSpan.Zero && _client.Servers.Count > 0;

    /// <summary>Gets the warm-up read started when the instance went UP (completed when none); it never faults.</summary>
    public Task Warmup => _warmup;

    /// <summary>Gets the watch in progress (completed when none); it never faults.</summary>
    public Task Watch => _watch;

    /// <summary>The instance is registered UP: from now on callers can reach it through the registry; each server's key is warmed.</summary>
    public void OnUp()
    {
        if (Enabled && !_added)
        {
            _added = true;
            _keys = new KeyState[_client.Servers.Count];
            _routes!.Add(Route);
            _warmup = Task.Run(WarmAsync, CancellationToken.None);
        }
    }

    /// <summary>The OUT_OF_SERVICE override is confirmed: starts watching the cached views, once per drain.</summary>
    public void OnOutOfService()
    {
        if (!_added || _watching)
        {
            return;
        }

        _watching = true;
        long overrideAt = _time.GetTimestamp();
        _watch = Task.Run(() => WatchAsync(overrideAt), CancellationToken.None);
    }

    /// <summary>Stops the warm-up and the watch, and waits for the read in progress (each is bounded by the request timeout).</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_warmup, _watch).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task WarmAsync()
    {
        try
        {
            for (int server = 0; server < _keys.Length && !_shutdown.DrainStarted.IsCancellationRequested; server++)
            {
                EurekaCallResult result = await _client.GetApplicationAsync(server, _identity, _stopping.Token).ConfigureAwait(false);
                if (result.Outcome == EurekaCallOutcome.NotFound)
                {
                    Observe(server, outOfService: false); // a view from before the registration: the key is held
                }
                else if (result.Succeeded && result.Body is not null
                    && EurekaResponseReader.ReadListing(result.Body, _identity.InstanceId) is { Succeeded: true } read)
                {
                    // Out of service already: an override (ours, answered late, or an operator's) came before this read.
                    Observe(server, outOfService: read.Value!.Status is EurekaStatus.OutOfService or EurekaStatus.Down);
                }
            }
        }
#pragma warning disable CA1031 // A failed warm-up only means that server gives no bound; it must never take the application down.
        catch (Exception)
#pragma warning restore CA1031
        {
            // Stopping, or the server is unreachable: the watch warms the key itself if a read shows the instance UP.
        }
    }

    /// <summary>Records what a read of a server's key showed; returns whether that server's cached view has turned over.</summary>
    private bool Observe(int server, bool outOfService)
    {
        lock (_keys)
        {
            KeyState state = _keys[server];
            _keys[server] = state == KeyState.Cold ? (outOfService ? KeyState.Unknown : KeyState.Warm) : state;
            return outOfService && state == KeyState.Warm;
        }
    }

    private async Task WatchAsync(long overrideAt)
    {
        // A warm-up still in flight has sent its read; its answer (or its timeout) decides whether that server was warm. It never throws.
        await _warmup.ConfigureAwait(false);
        using var over = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, _shutdown.TrafficWaitEnded);
        CancellationToken cancellationToken = over.Token;
        var pending = Enumerable.Range(0, _client.Servers.Count).ToList();
        string reason = "no answer yet";
        EurekaStatus? shown = null;
        try
        {
            while (true)
            {
                for (int i = pending.Count - 1; i >= 0; i--)
                {
                    (bool outOfService, EurekaStatus? status, string why) = await LookAsync(pending[i], cancellationToken).ConfigureAwait(false);
                    if (outOfService)
                    {
                        shown = status;
                        pending.RemoveAt(i);
                    }
                    else
                    {
                        reason = why;
                    }
                }

                if (pending.Count == 0)
                {
                    LetGo(shown, overrideAt);
                    return;
                }

                if (pending.Exists(IsUnknown))
                {
                    // That server can no longer show when its cached view turned over: no bound, and no more reads.
                    NotSeen(reason);
                    return;
                }

                await Task.Delay(_poll, _time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The traffic wait ended (or the host stops) before every cached view turned over.
            NotSeen(reason);
        }
#pragma warning disable CA1031 // Reading the cached view must never take the application down; the failure is logged.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _logger.CachedViewFailed(ex);
        }
    }

    /// <summary>One read of one server's cached view: whether it shows the instance out of service, and if not, why.</summary>
    private async Task<(bool OutOfService, EurekaStatus? Status, string Reason)> LookAsync(int server, CancellationToken cancellationToken)
    {
        string display = _client.Servers[server];
        EurekaCallResult result = await _client.GetApplicationAsync(server, _identity, cancellationToken).ConfigureAwait(false);
        if (result.Outcome == EurekaCallOutcome.NotFound)
        {
            // No instance of the application is listed at all.
            return Observe(server, outOfService: true) ? (true, null, "gone") : (false, null, ColdKey(display));
        }

        if (!result.Succeeded || result.Body is null)
        {
            return (false, null, $"{display}: {result.Outcome.ToName()}, {result.Detail}");
        }

        EurekaReadResult<EurekaListing> read = EurekaResponseReader.ReadListing(result.Body, _identity.InstanceId);
        if (!read.Succeeded)
        {
            if (!_unreadableLogged)
            {
                _unreadableLogged = true;
                _logger.UnreadableResponse(EurekaOperation.GetApplication.ToName(), read.Error, read.Detail);
            }

            return (false, null, $"{display}: unreadable answer ({read.Error})");
        }

        EurekaStatus? status = read.Value!.Status;
        if (status is not (null or EurekaStatus.OutOfService or EurekaStatus.Down))
        {
            Observe(server, outOfService: false);
            return (false, status, $"{display} still lists it {status.Value.ToWire()}");
        }

        return Observe(server, outOfService: true) ? (true, status, status?.ToWire() ?? "gone") : (false, status, ColdKey(display));
    }

    private static string ColdKey(string display) =>
        $"{display} was not read before the drain, so its answer may be newer than what callers fetch";

    private bool IsUnknown(int server)
    {
        lock (_keys)
        {
            return _keys[server] == KeyState.Unknown;
        }
    }

    private void NotSeen(string reason)
    {
        _logger.CachedViewNotSeen(_identity.AppName, _identity.InstanceId, reason);
        _report?.Add(Route, $"cached view not seen out of service ({reason}): no bound from the registry");
    }

    private void LetGo(EurekaStatus? shown, long overrideAt)
    {
        // The moment the last cached view was seen turned over: later than the turnover itself, so the bound is never early.
        DateTimeOffset seenAt = _time.GetUtcNow();
        double turnover = _time.GetElapsedTime(overrideAt).TotalSeconds;
        DateTimeOffset letGoBy = seenAt + TimeSpan.FromSeconds(_fetchSeconds + _cacheSeconds);
        string status = shown?.ToWire() ?? "gone";
        _routes!.LetGoBy(Route, letGoBy);
        _metrics.RecordCachedViewTurnover(turnover);
        _logger.CachedViewOutOfService(_identity.AppName, _identity.InstanceId, status, _client.Servers.Count, turnover, _fetchSeconds, _cacheSeconds,
            letGoBy);
        _report?.Add(Route, $"cached view shows {status} on {_client.Servers.Count} server(s), {turnover:0.###} s after the override; " +
            $"callers let go within {_fetchSeconds + _cacheSeconds} s (registry fetch {_fetchSeconds} s + load-balancer cache {_cacheSeconds} s)");
    }

    public void Dispose() => _stopping.Dispose();
}
