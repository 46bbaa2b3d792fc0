using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace GracefulShutdown.Testing.Harness;

/// <summary>
/// The in-process balancer: YARP's forwarder on real Kestrel (127.0.0.1, port 0), round robin over the replicas in rotation, one
/// keep-alive connection pool per replica, no retries. Which replicas are in rotation is the models' business (<see cref="Join"/>,
/// <see cref="Remove"/>, <see cref="RunHealthChecksAsync"/>).
/// </summary>
internal sealed class Balancer : IAsyncDisposable
{
    /// <summary>The response header that names the balancer's own error when it answered for a replica (502, 503, 504).</summary>
    public const string ErrorHeader = "X-Rollout-Balancer-Error";

    private static readonly TimeSpan s_probeTimeout = TimeSpan.FromSeconds(2);
    private readonly WebApplication _app;
    private readonly HttpMessageInvoker _pool;
    private readonly HttpClient _probes;
    private readonly RolloutOptions _options;
    private readonly Lock _sync = new();
    private readonly List<Replica> _rotation = [];
    private readonly HashSet<Replica> _members = [];
    private readonly Dictionary<Replica, int> _failedChecks = [];
    private readonly HashSet<Replica> _withoutReadiness = [];
    private int _next;

    private Balancer(WebApplication app, RolloutOptions options)
    {
        _app = app;
        _options = options;
        _pool = new HttpMessageInvoker(NewHandler(), disposeHandler: true);
        _probes = new HttpClient(NewHandler(), disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public Uri Address { get; private set; } = null!;

    public static async Task<Balancer> StartAsync(RolloutOptions options, CancellationToken cancellationToken)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(static kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Services.AddHttpForwarder();
        WebApplication app = builder.Build();
        var balancer = new Balancer(app, options);
        IHttpForwarder forwarder = app.Services.GetRequiredService<IHttpForwarder>();
        app.Run(context => balancer.ForwardAsync(context, forwarder));
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        balancer.Address = new Uri(address);
        return balancer;
    }

    /// <summary>Gets the readiness answer of a replica: passing (below 400), absent (404: the app has no readiness endpoint) or failing.</summary>
    public async Task<Readiness> CheckReadinessAsync(Replica replica, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(s_probeTimeout);
        try
        {
            using HttpResponseMessage response = await _probes.GetAsync(new Uri(replica.Address, _options.ReadinessPath), timeout.Token)
                .ConfigureAwait(false);
            return response.StatusCode == HttpStatusCode.NotFound ? Readiness.Absent
                : (int)response.StatusCode < 400 ? Readiness.Passing : Readiness.Failing;
        }
        catch (HttpRequestException)
        {
            return Readiness.Failing;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Readiness.Failing;
        }
    }

    /// <summary>A new replica joins once it answers readiness, like an endpoint Kubernetes marks ready.</summary>
    public async Task JoinAsync(Replica replica, CancellationToken cancellationToken)
    {
        TimeSpan period = TimeSpan.FromMilliseconds(50);
        using var startup = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        startup.CancelAfter(_options.StartupTimeout);
        while (true)
        {
            Readiness readiness;
            try
            {
                readiness = await CheckReadinessAsync(replica, startup.Token).ConfigureAwait(false);
                if (readiness == Readiness.Failing)
                {
                    await Task.Delay(period, _options.TimeProvider, startup.Token).ConfigureAwait(false);
                    continue;
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"{replica.Name} did not answer {_options.ReadinessPath} with a status below 400 within {_options.StartupTimeout} (RolloutOptions.StartupTimeout).");
            }

            Join(replica, readiness == Readiness.Absent);
            return;
        }
    }

    public void Join(Replica replica, bool withoutReadiness)
    {
        lock (_sync)
        {
            _rotation.Add(replica);
            _members.Add(replica);
            if (withoutReadiness)
            {
                _withoutReadiness.Add(replica);
            }
        }
    }

    /// <summary>Takes a replica out of rotation (a terminating replica never comes back).</summary>
    public void Remove(Replica replica)
    {
        lock (_sync)
        {
            _rotation.Remove(replica);
            if (replica.TerminationBegan)
            {
                replica.MarkRemoved();
            }
        }
    }

    /// <summary>A replica's termination begins: if health checks took it out of rotation already, it counts as removed at once.</summary>
    public void BeginTermination(Replica replica)
    {
        lock (_sync)
        {
            replica.BeginTermination();
            if (!_rotation.Contains(replica))
            {
                replica.MarkRemoved();
            }
        }
    }

    /// <summary>The replica is gone (disposed): no more health checks.</summary>
    public void Forget(Replica replica)
    {
        lock (_sync)
        {
            _rotation.Remove(replica);
            _members.Remove(replica);
            _failedChecks.Remove(replica);
            _withoutReadiness.Remove(replica);
        }
    }

    /// <summary>
    /// The health-checked model: every interval, each replica is checked; a run of failures takes it out of rotation, a passing check
    /// brings a replica that is not terminating back.
    /// </summary>
    public async Task RunHealthChecksAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(_options.HealthCheckInterval, _options.TimeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                Replica[] members;
                lock (_sync)
                {
                    members = [.. _members];
                }

                await Task.WhenAll(members.Select(r => CheckAsync(r, stop))).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        _pool.Dispose();
        _probes.Dispose();
    }

    private async Task CheckAsync(Replica replica, CancellationToken stop)
    {
        bool absent;
        lock (_sync)
        {
            absent = _withoutReadiness.Contains(replica);
        }

        // An app without a readiness endpoint still fails its checks once nothing listens any more.
        // A killed replica's host may still be winding down in this process; in a cluster nothing would answer any more.
        Readiness readiness = replica.IsKilled ? Readiness.Failing : await CheckReadinessAsync(replica, stop).ConfigureAwait(false);
        bool failed = readiness == Readiness.Failing || (readiness == Readiness.Absent && !absent);
        lock (_sync)
        {
            if (!_members.Contains(replica))
            {
                return;
            }

            int failures = failed ? _failedChecks.GetValueOrDefault(replica) + 1 : 0;
            _failedChecks[replica] = failures;
            if (failures >= _options.HealthCheckThreshold)
            {
                _rotation.Remove(replica);
                if (replica.TerminationBegan)
                {
                    replica.MarkRemoved();
                }
            }
            else if (failures == 0 && !replica.TerminationBegan && !_rotation.Contains(replica))
            {
                _rotation.Add(replica);
            }
        }
    }

    private Replica? Pick()
    {
        lock (_sync)
        {
            if (_rotation.Count == 0)
            {
                return null;
            }

            _next = (_next + 1) % _rotation.Count;
            return _rotation[_next];
        }
    }

    private async Task ForwardAsync(HttpContext context, IHttpForwarder forwarder)
    {
        if (Pick() is not Replica replica)
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            context.Response.Headers[ErrorHeader] = "no replica in rotation";
            return;
        }

        bool afterTermination = replica.BeginRequest(context);
        bool failed = true;
        try
        {
            ForwarderError error = await forwarder.SendAsync(context, replica.Address.GetLeftPart(UriPartial.Authority), _pool,
                ForwarderRequestConfig.Empty, HttpTransformer.Default).ConfigureAwait(false);
            if (error != ForwarderError.None && !context.Response.HasStarted)
            {
                context.Response.Headers[ErrorHeader] = error == ForwarderError.Request
                    ? "Request: the replica refused, closed or reset the connection before answering"
                    : error.ToString();
            }

            failed = error != ForwarderError.None || context.Response.StatusCode >= 500;
        }
        finally
        {
            replica.EndRequest(context, afterTermination, failed);
        }
    }

    private static SocketsHttpHandler NewHandler() => new()
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        ConnectTimeout = TimeSpan.FromSeconds(5),
        EnableMultipleHttp2Connections = true,
        ActivityHeadersPropagator = null,
    };
}
