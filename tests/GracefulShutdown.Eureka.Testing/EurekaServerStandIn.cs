using System.IO.Compression;
using System.Net;
using System.Text;
using GracefulShutdown.Eureka.Testing.Internal;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulShutdown.Eureka.Testing;

/// <summary>
/// An in-process stand-in for a Spring Cloud / Netflix Eureka server, served by a real Kestrel listener on
/// <c>http://127.0.0.1:{port}/eureka/</c>, for tests only. It follows the REST contract of the Java server
/// (<c>tests/Fixtures/eureka/CONTRACT.md</c>): both <c>/eureka/…</c> and <c>/eureka/v2/…</c>, the Java status
/// codes and 400 messages, the DownOrStarting / OverrideExists / LeaseExists status rules, sticky admin overrides,
/// the LegacyJacksonJson JSON shape and the XStream XML shape, chosen by <c>Accept</c> (JSON only when it contains
/// <c>json</c>), and lenient parsing of register bodies.
/// </summary>
/// <remarks>
/// <para>
/// Started with a <c>responseCacheUpdateInterval</c>, it serves the registry reads callers fetch (<c>GET apps</c>,
/// <c>apps/delta</c>, <c>apps/{APP}</c>, <c>vips/…</c>, <c>svips/…</c>) from a read-only response cache like the Java server's
/// (<c>ResponseCacheImpl</c>, <c>responseCacheUpdateIntervalMs</c>, 30 s by default there): a read shows the registry as it was
/// at the cache's last refresh (or at the key's first read), and the refresh runs on the <see cref="TimeProvider"/>'s timer at
/// multiples of the interval since the Unix epoch, as Java aligns it. Instance reads (<c>apps/{APP}/{id}</c>) are always live.
/// </para>
/// <para>
/// Deliberate differences from a real server, so tests stay fast and deterministic:
/// without that interval there is no response cache, so every read reflects the registry
/// immediately; there is no eviction timer, lease expiry or self-preservation (use <see cref="EvictLease"/>);
/// the delta keeps every change since start instead of the last 180 s; there is no 403 "waiting for peer sync";
/// <c>X-Eureka-Accept: compact</c> and <c>regions</c> are ignored; registry GETs are gzipped when
/// <c>Accept-Encoding</c> contains <c>gzip</c>, instance GETs never are.
/// </para>
/// <para>
/// A request carrying <c>x-netflix-discovery-replication: true</c> is treated as peer replication: LeaseExistsRule is
/// skipped, a heartbeat whose <c>lastDirtyTimestamp</c> is newer is accepted, and an older one gets 409 with the
/// server's instance.
/// </para>
/// <para>All members are thread-safe. Timestamps in payloads and in <see cref="Calls"/> come from the
/// <see cref="TimeProvider"/> given to <c>StartAsync</c>; timeouts of <see cref="WaitForCallAsync"/> use real time.</para>
/// </remarks>
public sealed class EurekaServerStandIn : IAsyncDisposable
{
    private const string ReplicationHeader = "x-netflix-discovery-replication";

    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _listenerLock = new(1, 1);
    private readonly TimeProvider _timeProvider;
    private readonly EurekaRegistry _registry;
    private readonly EurekaResources _resources;
    private readonly List<EurekaCall> _calls = [];
    private readonly List<(Func<EurekaCall, bool> Predicate, TaskCompletionSource<EurekaCall> Completion)> _waiters = [];
    private readonly List<FaultRule> _faults = [];

    // Every hang handed out, including those whose rule is used up but which may still hold requests.
    private readonly List<EurekaHang> _hangs = [];
    private ITimer? _responseCacheTimer;
    private WebApplication? _app;
    private CancellationTokenSource? _listenerCts;
    private long _sequence;
    private int _port;
    private bool _disposed;

    private EurekaServerStandIn(TimeProvider timeProvider)
    {
        _timeProvider = timeProvider;
        _registry = new EurekaRegistry(timeProvider);
        _resources = new EurekaResources(_registry, timeProvider);
    }

    /// <summary>Gets the service URL clients are configured with, e.g. <c>http://127.0.0.1:5123/eureka/</c>.</summary>
    public Uri BaseUri { get; private set; } = null!;

    /// <summary>Gets the bound TCP port on 127.0.0.1. It stays the same across <see cref="StopListeningAsync"/> / <see cref="ResumeListeningAsync"/>.</summary>
    public int Port => _port;

    /// <summary>Gets a value indicating whether the stand-in currently accepts connections.</summary>
    public bool IsListening
    {
        get
        {
            lock (_gate)
            {
                return _app is not null;
            }
        }
    }

    /// <summary>Gets a snapshot of every recorded call, in completion order.</summary>
    public IReadOnlyList<EurekaCall> Calls
    {
        get
        {
            lock (_gate)
            {
                return [.. _calls];
            }
        }
    }

    /// <summary>Starts a stand-in on <c>http://127.0.0.1:0</c> and returns once it accepts connections.</summary>
    /// <param name="timeProvider">The clock for Eureka timestamps and call records; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running stand-in. Dispose it to stop the listener.</returns>
    public static Task<EurekaServerStandIn> StartAsync(TimeProvider? timeProvider = null, CancellationToken cancellationToken = default) =>
        StartCoreAsync(new EurekaServerStandIn(timeProvider ?? TimeProvider.System), cancellationToken);

    /// <summary>
    /// Starts a stand-in on <c>http://127.0.0.1:0</c> whose registry reads come from a read-only response cache refreshed every
    /// <paramref name="responseCacheUpdateInterval"/> (the Java server's <c>responseCacheUpdateIntervalMs</c>), and returns once it accepts connections.
    /// </summary>
    /// <param name="timeProvider">The clock for the cache's refresh, Eureka timestamps and call records; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <param name="responseCacheUpdateInterval">How often the cached view is refreshed; greater than zero.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running stand-in. Dispose it to stop the listener and the cache's timer.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="responseCacheUpdateInterval"/> is not greater than zero.</exception>
    public static Task<EurekaServerStandIn> StartAsync(TimeProvider? timeProvider, TimeSpan responseCacheUpdateInterval,
        CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(responseCacheUpdateInterval, TimeSpan.Zero);
        var standIn = new EurekaServerStandIn(timeProvider ?? TimeProvider.System);
        standIn.UseResponseCache(responseCacheUpdateInterval);
        return StartCoreAsync(standIn, cancellationToken);
    }

    /// <summary>Gets how often the read-only response cache is refreshed, or <see langword="null"/> when reads reflect the registry at once.</summary>
    public TimeSpan? ResponseCacheUpdateInterval { get; private set; }

    private static async Task<EurekaServerStandIn> StartCoreAsync(EurekaServerStandIn standIn, CancellationToken cancellationToken)
    {
        try
        {
            await standIn.ListenAsync(0, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await standIn.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return standIn;
    }

    /// <summary>
    /// Returns the first recorded call matching <paramref name="predicate"/>, already recorded or yet to come,
    /// without polling.
    /// </summary>
    /// <param name="predicate">The condition; it runs under the stand-in's lock, so keep it cheap and side-effect free.</param>
    /// <param name="timeout">How long to wait (real time).</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The matching call.</returns>
    /// <exception cref="TimeoutException">No call matched in time; the message lists the calls seen.</exception>
    public async Task<EurekaCall> WaitForCallAsync(Func<EurekaCall, bool> predicate, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        var completion = new TaskCompletionSource<EurekaCall>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            foreach (EurekaCall call in _calls)
            {
                if (predicate(call))
                {
                    return call;
                }
            }

            _waiters.Add((predicate, completion));
        }

        try
        {
            return await completion.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            lock (_gate)
            {
                _waiters.RemoveAll(w => w.Completion == completion);
            }

            if (ex is OperationCanceledException)
            {
                throw;
            }

            throw new TimeoutException(
                $"No Eureka call matched within {timeout}. Recorded calls:{Environment.NewLine}  "
                + string.Join(Environment.NewLine + "  ", Calls));
        }
    }

    /// <summary>Forgets the recorded calls (the registry is kept).</summary>
    public void ClearCalls()
    {
        lock (_gate)
        {
            _calls.Clear();
        }
    }

    /// <summary>Returns a copy of a registered instance, or <see langword="null"/> when no lease exists.</summary>
    /// <param name="appName">The application name (any case).</param>
    /// <param name="id">The instance id (instanceId, else hostName).</param>
    /// <returns>The snapshot or <see langword="null"/>.</returns>
    public EurekaInstanceSnapshot? GetInstance(string appName, string id)
    {
        ArgumentNullException.ThrowIfNull(appName);
        ArgumentNullException.ThrowIfNull(id);
        lock (_registry.Gate)
        {
            Lease? lease = _registry.GetLease(appName.ToUpperInvariant(), id);
            return lease is null ? null : Snapshot(lease);
        }
    }

    /// <summary>Returns copies of all registered instances, ordered by application name.</summary>
    /// <returns>The snapshots.</returns>
    public IReadOnlyList<EurekaInstanceSnapshot> GetInstances()
    {
        lock (_registry.Gate)
        {
            return [.. _registry.AllLeases().Select(Snapshot)];
        }
    }

    /// <summary>
    /// Drops a lease as the eviction task would (it also clears any status override), without a recorded call.
    /// The next heartbeat for it gets 404, which makes Java-style clients re-register.
    /// </summary>
    /// <param name="appName">The application name (any case).</param>
    /// <param name="id">The instance id.</param>
    /// <returns><see langword="true"/> when a lease was dropped.</returns>
    public bool EvictLease(string appName, string id)
    {
        ArgumentNullException.ThrowIfNull(appName);
        ArgumentNullException.ThrowIfNull(id);
        lock (_registry.Gate)
        {
            return _registry.Cancel(appName.ToUpperInvariant(), id);
        }
    }

    /// <summary>Answers the next <paramref name="times"/> requests for <paramref name="operation"/> with <paramref name="statusCode"/> and an empty body, without touching the registry.</summary>
    /// <param name="operation">The operation to fail.</param>
    /// <param name="statusCode">The status code to answer with, e.g. 500, 503 or 404.</param>
    /// <param name="times">How many requests to fail.</param>
    public void FailNext(EurekaOperation operation, int statusCode, int times = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(statusCode, 100);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(statusCode, 599);
        ArgumentOutOfRangeException.ThrowIfLessThan(times, 1);
        lock (_gate)
        {
            _faults.Add(new FaultRule(operation, times, statusCode, null));
        }
    }

    /// <summary>Holds the next <paramref name="times"/> requests for <paramref name="operation"/> without answering; see <see cref="EurekaHang"/>.</summary>
    /// <param name="operation">The operation to hang.</param>
    /// <param name="times">How many requests to hold.</param>
    /// <returns>The handle that observes and releases the held requests.</returns>
    public EurekaHang HangNext(EurekaOperation operation, int times = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(times, 1);
        var hang = new EurekaHang(operation);
        lock (_gate)
        {
            _faults.Add(new FaultRule(operation, times, null, hang));
            _hangs.Add(hang);
        }

        return hang;
    }

    /// <summary>Removes all pending faults and releases held requests.</summary>
    public void ClearFaults()
    {
        lock (_gate)
        {
            foreach (EurekaHang hang in _hangs)
            {
                hang.Release();
            }

            _hangs.Clear();
            _faults.Clear();
        }
    }

    /// <summary>
    /// Closes the listener so new connections are refused ("Eureka unreachable"). Held requests are aborted;
    /// the registry and call log are kept. Idempotent.
    /// </summary>
    /// <param name="cancellationToken">Bounds the graceful stop of in-flight requests.</param>
    /// <returns>A task that completes when the port is closed.</returns>
    public async Task StopListeningAsync(CancellationToken cancellationToken = default)
    {
        await _listenerLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            WebApplication? app;
            CancellationTokenSource? cts;
            lock (_gate)
            {
                (app, cts, _app, _listenerCts) = (_app, _listenerCts, null, null);
            }

            if (app is null)
            {
                return;
            }

            // Abort held requests first; Kestrel's stop would otherwise wait for them.
            await cts!.CancelAsync().ConfigureAwait(false);
            await app.StopAsync(cancellationToken).ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
            cts.Dispose();
        }
        finally
        {
            _listenerLock.Release();
        }
    }

    /// <summary>Listens again on the same port after <see cref="StopListeningAsync"/>. Idempotent.</summary>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>A task that completes when connections are accepted again.</returns>
    /// <exception cref="IOException">The port was taken meanwhile.</exception>
    public Task ResumeListeningAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
        }

        return ListenAsync(_port, cancellationToken);
    }

    /// <summary>Stops the listener, aborts held requests and fails pending <see cref="WaitForCallAsync"/> calls.</summary>
    /// <returns>A task that completes when the port is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        List<TaskCompletionSource<EurekaCall>> pending;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            pending = [.. _waiters.Select(w => w.Completion)];
            _waiters.Clear();
        }

        await StopListeningAsync().ConfigureAwait(false);
        _responseCacheTimer?.Dispose();
        ClearFaults();
        foreach (TaskCompletionSource<EurekaCall> completion in pending)
        {
            completion.TrySetException(new ObjectDisposedException(nameof(EurekaServerStandIn)));
        }

        _listenerLock.Dispose();
    }

    private void UseResponseCache(TimeSpan interval)
    {
        ResponseCache cache = _resources.UseResponseCache();
        ResponseCacheUpdateInterval = interval;

        // ResponseCacheImpl: timer.schedule(task, new Date((now / interval) * interval + interval), interval).
        long intervalMs = Math.Max(1, (long)interval.TotalMilliseconds);
        long nowMs = _timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        TimeSpan firstDue = TimeSpan.FromMilliseconds(intervalMs - (nowMs % intervalMs));
        _responseCacheTimer = _timeProvider.CreateTimer(_ =>
        {
            lock (_registry.Gate)
            {
                cache.Refresh();
            }
        }, null, firstDue, interval);
    }

    private async Task ListenAsync(int port, CancellationToken cancellationToken)
    {
        await _listenerLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_app is not null)
            {
                return;
            }

            WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
            builder.WebHost.UseKestrelCore();
            builder.WebHost.ConfigureKestrel(options => options.Listen(IPAddress.Loopback, port));
            WebApplication app = builder.Build();
            var cts = new CancellationTokenSource();
            app.Run(context => HandleAsync(context, cts.Token));
            try
            {
                await app.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await app.DisposeAsync().ConfigureAwait(false);
                cts.Dispose();
                throw;
            }

            string address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
            _port = new Uri(address).Port;
            BaseUri = new Uri($"http://127.0.0.1:{_port}/eureka/");
            lock (_gate)
            {
                (_app, _listenerCts) = (app, cts);
            }
        }
        finally
        {
            _listenerLock.Release();
        }
    }

    private async Task HandleAsync(HttpContext context, CancellationToken listenerToken)
    {
        long timestamp = _timeProvider.GetTimestamp();
        DateTimeOffset receivedAt = _timeProvider.GetUtcNow();
        long sequence = Interlocked.Increment(ref _sequence);
        HttpRequest request = context.Request;
        string? body = await ReadBodyAsync(request, context.RequestAborted).ConfigureAwait(false);
        EurekaRoute route = EurekaRoute.Match(request.Method, request.Path.Value ?? string.Empty);

        EurekaCall Record(int statusCode, string? responseBody, bool faulted)
        {
            var call = new EurekaCall
            {
                Sequence = sequence,
                Timestamp = timestamp,
                ReceivedAt = receivedAt,
                Method = request.Method.ToUpperInvariant(),
                Path = request.Path.Value ?? string.Empty,
                Query = request.QueryString.Value ?? string.Empty,
                Operation = route.Operation,
                AppName = route.Operation is EurekaOperation.GetVip or EurekaOperation.GetSecureVip ? null : route.App,
                InstanceId = route.Id,
                Accept = request.Headers.Accept.Count > 0 ? request.Headers.Accept.ToString() : null,
                ContentType = request.ContentType,
                RequestBody = body,
                StatusCode = statusCode,
                ResponseBody = responseBody,
                Faulted = faulted,
            };
            AddCall(call);
            return call;
        }

        FaultRule? fault = TakeFault(route.Operation);
        if (fault?.Hang is EurekaHang hang)
        {
            hang.OnHeld();
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(listenerToken, context.RequestAborted);
            try
            {
                await hang.Released.WaitAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The server "died" (stop/dispose) or the client gave up: no response at all.
                Record(0, null, faulted: true);
                context.Abort();
                return;
            }
        }

        EurekaResponse response = fault?.StatusCode is int failStatus
            ? EurekaResponse.Status(failStatus)
            : _resources.Execute(new EurekaRequest(
                route,
                request.Query,
                body,
                request.ContentType,
                WantsJson: request.Headers.Accept.ToString().Contains("json", StringComparison.OrdinalIgnoreCase),
                IsReplication: string.Equals(request.Headers[ReplicationHeader].ToString(), "true", StringComparison.OrdinalIgnoreCase)));

        // Record before writing, so a client that saw the response always finds the call in the log.
        Record(response.StatusCode, response.Body, faulted: fault?.StatusCode is not null);
        await WriteAsync(context, response).ConfigureAwait(false);
    }

    private static async Task<string?> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        string text = await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        return text.Length == 0 ? null : text;
    }

    private static async Task WriteAsync(HttpContext context, EurekaResponse response)
    {
        HttpResponse http = context.Response;
        http.StatusCode = response.StatusCode;
        if (response.Body is null)
        {
            return;
        }

        byte[] bytes = Encoding.UTF8.GetBytes(response.Body);
        http.ContentType = response.ContentType;
        if (response.MayGzip && context.Request.Headers.AcceptEncoding.ToString().Contains("gzip", StringComparison.OrdinalIgnoreCase))
        {
            using var compressed = new MemoryStream();
            using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
            {
                gzip.Write(bytes);
            }

            bytes = compressed.ToArray();
            http.Headers.ContentEncoding = "gzip";
        }

        http.ContentLength = bytes.Length;
        await http.Body.WriteAsync(bytes, context.RequestAborted).ConfigureAwait(false);
    }

    private void AddCall(EurekaCall call)
    {
        lock (_gate)
        {
            _calls.Add(call);
            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                (Func<EurekaCall, bool> predicate, TaskCompletionSource<EurekaCall> completion) = _waiters[i];
                try
                {
                    if (!predicate(call))
                    {
                        continue;
                    }

                    completion.TrySetResult(call);
                }
                catch (Exception ex)
                {
                    // A throwing predicate is the test's bug: surface it to the waiter, not to the HTTP client.
                    completion.TrySetException(ex);
                }

                _waiters.RemoveAt(i);
            }
        }
    }

    private FaultRule? TakeFault(EurekaOperation operation)
    {
        lock (_gate)
        {
            _faults.RemoveAll(f => f.Hang?.IsReleased == true);
            FaultRule? rule = _faults.Find(f => f.Operation == operation);
            if (rule is null)
            {
                return null;
            }

            if (--rule.Remaining == 0)
            {
                _faults.Remove(rule);
            }

            return rule;
        }
    }

    private EurekaInstanceSnapshot Snapshot(Lease lease)
    {
        InstanceRecord i = lease.Holder;
        return new EurekaInstanceSnapshot
        {
            AppName = i.App!,
            Id = i.Id!,
            InstanceId = i.InstanceId,
            HostName = i.HostName!,
            IpAddr = i.IpAddr!,
            Status = i.Status,
            OverriddenStatus = i.OverriddenStatus,
            StatusOverride = _registry.GetOverride(i.Id!),
            Port = i.Port,
            PortEnabled = i.PortEnabled,
            SecurePort = i.SecurePort,
            SecurePortEnabled = i.SecurePortEnabled,
            VipAddress = i.VipAddress,
            Metadata = new Dictionary<string, string>(i.Metadata, StringComparer.Ordinal),
            LastDirtyTimestamp = i.LastDirtyTimestamp,
            LastUpdatedTimestamp = i.LastUpdatedTimestamp,
            ActionType = i.ActionType,
            RegistrationTimestamp = lease.RegistrationTimestamp,
            LastRenewalTimestamp = lease.LastUpdateTimestamp,
            ServiceUpTimestamp = lease.ServiceUpTimestamp,
            RenewalCount = lease.RenewalCount,
        };
    }

    private sealed class FaultRule(EurekaOperation operation, int remaining, int? statusCode, EurekaHang? hang)
    {
        public EurekaOperation Operation { get; } = operation;

        public int Remaining { get; set; } = remaining;

        public int? StatusCode { get; } = statusCode;

        public EurekaHang? Hang { get; } = hang;
    }
}
