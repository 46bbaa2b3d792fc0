using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using GracefulShutdown.Kubernetes.Testing.Internal;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;

namespace GracefulShutdown.Kubernetes.Testing;

/// <summary>
/// An in-process stand-in for the Kubernetes API server, served by a real Kestrel listener on
/// <c>https://127.0.0.1:{port}</c> (a throw-away CA per instance, see <see cref="CertificateAuthorityPem"/>; kubectl sends
/// a token only over TLS) or, with <see cref="KubernetesApiStandInOptions.UseHttps"/> off, plain HTTP, for tests only. It serves Pods (<c>v1</c>) and EndpointSlices
/// (<c>discovery.k8s.io/v1</c>) read-only over the API (get, list, watch) as the real server does: one global
/// resourceVersion counter, list <c>metadata.resourceVersion</c>, label and field selectors, <c>limit</c>/<c>continue</c>,
/// watches from a resourceVersion with 410 Expired once it is compacted away, BOOKMARK events, <c>timeoutSeconds</c>,
/// bearer-token authentication (401), an optional RBAC-like rule (403) and the discovery documents kubectl needs.
/// Tests change the objects with <see cref="Apply(JsonObject)"/> and <see cref="Delete"/>.
/// </summary>
/// <remarks>
/// Every namespace exists (<c>GET /api/v1/namespaces/{name}</c> answers an Active Namespace for any name).
/// What it does not model: writes over HTTP (POST/PUT/PATCH/DELETE answer 405), other resources, protobuf, Table
/// output, aggregated discovery, OpenAPI, <c>sendInitialEvents</c>, TLS, the watch cache's 3 s wait for a future
/// resourceVersion (a list at a newer resourceVersion gets 504 at once), consistent snapshots for <c>continue</c>
/// pages (later pages read the current state), and admission/validation of objects. All members are thread-safe.
/// </remarks>
public sealed class KubernetesApiStandIn : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly KubernetesApiStandInOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ObjectStore _store;
    private readonly List<KubernetesApiCall> _calls = [];
    private readonly List<(Func<KubernetesApiCall, bool> Match, TaskCompletionSource<KubernetesApiCall> Completion)> _waiters = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationToken _stoppingToken;
    private readonly TlsCertificates? _tls;
    private WebApplication? _app;
    private long _sequence;
    private Func<KubernetesAccess, bool>? _authorize;
    private bool _disposed;

    private KubernetesApiStandIn(KubernetesApiStandInOptions options)
    {
        _options = options;
        _timeProvider = options.TimeProvider ?? TimeProvider.System;
        _store = new ObjectStore(_timeProvider, options.BookmarkInterval, options.MaxHistory);
        _authorize = options.Authorize;
        Token = options.Token ?? Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        _tls = options.UseHttps ? TlsCertificates.Create(_timeProvider) : null;
        _stoppingToken = _stopping.Token;
    }

    /// <summary>Gets the server address, e.g. <c>https://127.0.0.1:5123/</c>.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>
    /// Gets the PEM of the throw-away CA that signed the server certificate (what a kubeconfig's
    /// <c>certificate-authority-data</c> carries), or <see langword="null"/> over plain HTTP.
    /// </summary>
    public string? CertificateAuthorityPem => _tls?.Authority.ExportCertificatePem();

    /// <summary>
    /// Creates a handler that trusts only this stand-in's CA, for an <see cref="HttpClient"/> in tests
    /// (it adds no token: send <c>Authorization: Bearer {Token}</c> yourself).
    /// </summary>
    /// <returns>A new handler; the caller disposes it (or the client that owns it).</returns>
    public HttpMessageHandler CreateHttpMessageHandler()
    {
        TlsCertificates? tls = _tls;
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromSeconds(5) };
        if (tls is not null)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) => tls.Validate(certificate);
        }

        return handler;
    }

    /// <summary>Gets the bearer token every request must carry (<c>Authorization: Bearer {Token}</c>), else 401.</summary>
    public string Token { get; }

    /// <summary>Gets the faults injected into answers; change them at any time.</summary>
    public KubernetesFaults Faults { get; } = new();

    /// <summary>Gets or sets the RBAC-like rule (see <see cref="KubernetesApiStandInOptions.Authorize"/>); <see langword="null"/> allows everything.</summary>
    public Func<KubernetesAccess, bool>? Authorize
    {
        get { lock (_gate) { return _authorize; } }
        set { lock (_gate) { _authorize = value; } }
    }

    /// <summary>Gets the current (latest) resourceVersion of the store.</summary>
    public long ResourceVersion => _store.Revision;

    /// <summary>Gets how many watch streams are open now.</summary>
    public int OpenWatchCount => _store.OpenWatchCount;

    /// <summary>Gets a snapshot of every request received, in arrival order.</summary>
    public IReadOnlyList<KubernetesApiCall> Calls
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
    /// <param name="options">The options; defaults when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running stand-in. Dispose it to stop the listener.</returns>
    public static async Task<KubernetesApiStandIn> StartAsync(KubernetesApiStandInOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new KubernetesApiStandInOptions();
        if (options.BookmarkInterval < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.BookmarkInterval, $"KubernetesApiStandInOptions.BookmarkInterval must not be negative (was {options.BookmarkInterval}).");
        }

        if (options.MaxHistory < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxHistory, $"KubernetesApiStandInOptions.MaxHistory must be at least 1 (was {options.MaxHistory}).");
        }

        if (options.Token is not null && (options.Token.Length == 0 || options.Token.Any(char.IsWhiteSpace)))
        {
            throw new ArgumentException($"KubernetesApiStandInOptions.Token must be non-empty without white space (was '{options.Token}').", nameof(options));
        }

        var standIn = new KubernetesApiStandIn(options);
        try
        {
            await standIn.ListenAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await standIn.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return standIn;
    }

    /// <summary>
    /// Writes a kubeconfig for this server (cluster <c>server</c> = <see cref="BaseAddress"/>, user <c>token</c> =
    /// <see cref="Token"/>, one context that is current) that kubectl, client-node and KubernetesClient read.
    /// </summary>
    /// <param name="path">The file to write (created or replaced).</param>
    /// <param name="namespace">The context's namespace, or none when <see langword="null"/>.</param>
    /// <returns>The full path written.</returns>
    public string WriteKubeconfig(string path, string? @namespace = null) => WriteKubeconfig(path, @namespace, Token);

    /// <summary>Writes a kubeconfig as <see cref="WriteKubeconfig(string, string?)"/> does, with another token (e.g. a wrong one for a 401).</summary>
    /// <param name="path">The file to write (created or replaced).</param>
    /// <param name="namespace">The context's namespace, or none when <see langword="null"/>.</param>
    /// <param name="token">The bearer token the kubeconfig's user carries.</param>
    /// <returns>The full path written.</returns>
    public string WriteKubeconfig(string path, string? @namespace, string token)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentException.ThrowIfNullOrEmpty(token);
        string server = BaseAddress.GetLeftPart(UriPartial.Authority);
        var yaml = new StringBuilder()
            .AppendLine("apiVersion: v1")
            .AppendLine("kind: Config")
            .AppendLine("clusters:")
            .AppendLine("- name: stand-in")
            .AppendLine("  cluster:")
            .AppendLine(CultureInfo.InvariantCulture, $"    server: {server}");
        if (_tls is not null)
        {
            yaml.AppendLine(CultureInfo.InvariantCulture, $"    certificate-authority-data: {Convert.ToBase64String(Encoding.ASCII.GetBytes(_tls.Authority.ExportCertificatePem()))}");
        }

        yaml
            .AppendLine("users:")
            .AppendLine("- name: stand-in")
            .AppendLine("  user:")
            .AppendLine(CultureInfo.InvariantCulture, $"    token: \"{token}\"")
            .AppendLine("contexts:")
            .AppendLine("- name: stand-in")
            .AppendLine("  context:")
            .AppendLine("    cluster: stand-in")
            .AppendLine("    user: stand-in");
        if (@namespace is not null)
        {
            yaml.AppendLine(CultureInfo.InvariantCulture, $"    namespace: {@namespace}");
        }

        yaml.AppendLine("current-context: stand-in");
        string full = Path.GetFullPath(path);
        File.WriteAllText(full, yaml.ToString());
        return full;
    }

    /// <summary>
    /// Writes the files a pod's service account mount holds (<c>token</c>, <c>ca.crt</c>, <c>namespace</c>, as under
    /// <c>/var/run/secrets/kubernetes.io/serviceaccount/</c>) for clients whose in-cluster configuration can be pointed
    /// at another folder; pair it with <c>KUBERNETES_SERVICE_HOST=127.0.0.1</c> and <c>KUBERNETES_SERVICE_PORT</c> = the port
    /// of <see cref="BaseAddress"/>. Over plain HTTP no <c>ca.crt</c> is written.
    /// </summary>
    /// <param name="directory">The folder (created when missing).</param>
    /// <param name="namespace">The pod's namespace.</param>
    /// <returns>The full path of the folder.</returns>
    public string WriteServiceAccount(string directory, string @namespace)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentException.ThrowIfNullOrEmpty(@namespace);
        string full = Directory.CreateDirectory(directory).FullName;
        File.WriteAllText(Path.Combine(full, "token"), Token);
        File.WriteAllText(Path.Combine(full, "namespace"), @namespace);
        if (_tls is not null)
        {
            File.WriteAllText(Path.Combine(full, "ca.crt"), _tls.Authority.ExportCertificatePem() + "\n");
        }

        return full;
    }

    /// <summary>
    /// Creates or replaces a Pod (<c>v1</c>) or EndpointSlice (<c>discovery.k8s.io/v1</c>) by kind, namespace
    /// (<c>default</c> when absent) and name. Assigns <c>uid</c> and <c>creationTimestamp</c> on create (a replace keeps
    /// them), a new <c>resourceVersion</c> from the global counter, and emits ADDED or MODIFIED to matching watches.
    /// Everything else is stored as given.
    /// </summary>
    /// <param name="obj">The object (not modified).</param>
    /// <returns>A copy of the stored object.</returns>
    /// <exception cref="ArgumentException">The kind is not served or metadata.name is missing.</exception>
    public JsonObject Apply(JsonObject obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        return _store.Apply(obj);
    }

    /// <summary>Parses <paramref name="json"/> and applies it as <see cref="Apply(JsonObject)"/> does.</summary>
    /// <param name="json">A Pod or EndpointSlice as JSON.</param>
    /// <returns>A copy of the stored object.</returns>
    public JsonObject Apply(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return Apply(JsonNode.Parse(json) as JsonObject ?? throw new ArgumentException("The JSON is not an object.", nameof(json)));
    }

    /// <summary>Deletes an object and emits DELETED (with a new resourceVersion) to matching watches.</summary>
    /// <param name="kind">The kind or resource name, e.g. <c>Pod</c>, <c>pods</c>, <c>EndpointSlice</c>.</param>
    /// <param name="namespace">The namespace.</param>
    /// <param name="name">The name.</param>
    /// <returns><see langword="true"/> when the object existed.</returns>
    public bool Delete(string kind, string @namespace, string name) => _store.Delete(Resource(kind), @namespace, name);

    /// <summary>Returns a copy of a stored object, or <see langword="null"/>.</summary>
    /// <param name="kind">The kind or resource name, e.g. <c>Pod</c>, <c>pods</c>, <c>EndpointSlice</c>.</param>
    /// <param name="namespace">The namespace.</param>
    /// <param name="name">The name.</param>
    /// <returns>The object or <see langword="null"/>.</returns>
    public JsonObject? Get(string kind, string @namespace, string name) => _store.Get(Resource(kind), @namespace, name);

    /// <summary>
    /// Compacts the history as etcd does: a watch from a resourceVersion older than <paramref name="resourceVersion"/>
    /// gets an ERROR event with a 410 Expired Status, and so do lists with <c>resourceVersionMatch=Exact</c> and
    /// <c>continue</c> tokens from before it. A list with a plain <c>resourceVersion</c> ("not older than") still
    /// answers with the current state, as the real server does.
    /// </summary>
    /// <param name="resourceVersion">The oldest resourceVersion still servable; at most <see cref="ResourceVersion"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="resourceVersion"/> is beyond the current resourceVersion.</exception>
    public void CompactBefore(long resourceVersion) => _store.CompactBefore(resourceVersion);

    /// <summary>Ends every open watch stream at once (a clean end of the chunked response); clients must watch again.</summary>
    public void DropWatches() => _store.DropWatches(abort: false);

    /// <summary>
    /// Resets every open watch connection at once, as a crashed server or a cut network does: clients see an error
    /// (a reset stream), not the clean end of <see cref="DropWatches"/>.
    /// </summary>
    public void AbortWatches() => _store.DropWatches(abort: true);

    /// <summary>Forgets the recorded calls.</summary>
    public void ClearCalls()
    {
        lock (_gate)
        {
            _calls.Clear();
        }
    }

    /// <summary>Returns the first call matching <paramref name="match"/>, already received or yet to come, without polling.</summary>
    /// <param name="match">The condition; it runs under the stand-in's lock, so keep it cheap.</param>
    /// <param name="cancellationToken">Ends the wait (give it a timeout).</param>
    /// <returns>The matching call.</returns>
    public async Task<KubernetesApiCall> WaitForCallAsync(Func<KubernetesApiCall, bool> match, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(match);
        var completion = new TaskCompletionSource<KubernetesApiCall>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            foreach (KubernetesApiCall call in _calls)
            {
                if (match(call))
                {
                    return call;
                }
            }

            _waiters.Add((match, completion));
        }

        try
        {
            return await completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            lock (_gate)
            {
                _waiters.RemoveAll(w => w.Completion == completion);
            }

            throw new OperationCanceledException(
                $"No Kubernetes API call matched before the wait was cancelled. Calls received:{Environment.NewLine}  "
                + string.Join(Environment.NewLine + "  ", Calls),
                cancellationToken);
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        WebApplication? app;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            app = _app;
            _app = null;
            foreach ((_, TaskCompletionSource<KubernetesApiCall> completion) in _waiters)
            {
                completion.TrySetException(new ObjectDisposedException(nameof(KubernetesApiStandIn)));
            }

            _waiters.Clear();
        }

        // End watches first; Kestrel's stop would otherwise wait for them.
        await _stopping.CancelAsync().ConfigureAwait(false);
        _store.DropWatches(abort: false);
        if (app is not null)
        {
            await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
        }

        _stopping.Dispose();
        _tls?.Dispose();
    }

    private static ResourceType Resource(string kind)
    {
        ArgumentException.ThrowIfNullOrEmpty(kind);
        return ResourceType.ByAnyName(kind) ?? throw new ArgumentException($"Only Pod and EndpointSlice are served, not '{kind}'.", nameof(kind));
    }

    private async Task ListenAsync(CancellationToken cancellationToken)
    {
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(options => options.Listen(IPAddress.Loopback, 0, listen =>
        {
            if (_tls is not null)
            {
                listen.UseHttps(_tls.Server);
            }
        }));
        WebApplication app = builder.Build();
        app.Run(HandleAsync);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        string address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        BaseAddress = new Uri($"{(_tls is null ? "http" : "https")}://127.0.0.1:{new Uri(address).Port}/");
        lock (_gate)
        {
            _app = app;
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        HttpRequest request = context.Request;
        ApiRoute route = ApiRoute.Match(request.Path.Value ?? string.Empty, request.Query);
        KubernetesApiCall call = Record(request, route);
        KubernetesFaults.FaultSnapshot fault = Faults.For(call);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stoppingToken);
        CancellationToken aborted = linked.Token;

        if (fault.Unreachable)
        {
            context.Abort();
            return;
        }

        // Measured from the call's arrival, so a test that advances a fake clock right after seeing the call cannot race the timer.
        TimeSpan remaining = call.Time + fault.Delay - _timeProvider.GetUtcNow();
        if (remaining > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(remaining, _timeProvider, aborted).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        if (fault.StatusCode is int faultCode)
        {
            (string reason, string message) = ApiPayloads.ForCode(faultCode);
            await WriteAsync(context, faultCode, ApiPayloads.Status(faultCode, reason, message)).ConfigureAwait(false);
            return;
        }

        if (!IsAuthenticated(request))
        {
            await WriteAsync(context, 401, ApiPayloads.Status(401, "Unauthorized", "Unauthorized")).ConfigureAwait(false);
            return;
        }

        if (!HttpMethods.IsGet(request.Method))
        {
            await WriteAsync(context, 405, ApiPayloads.Status(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")).ConfigureAwait(false);
            return;
        }

        if (route.Resource is ResourceType resource
            && Authorize is Func<KubernetesAccess, bool> authorize
            && !authorize(new KubernetesAccess(route.Verb!, resource.Plural, resource.Group, route.Namespace)))
        {
            string where = route.Namespace is null ? "at the cluster scope" : $"in the namespace \"{route.Namespace}\"";
            string qualified = resource.Group.Length == 0 ? resource.Plural : $"{resource.Plural}.{resource.Group}";
            string message = $"{qualified}{(route.Name is null ? string.Empty : $" \"{route.Name}\"")} is forbidden: User \"system:serviceaccount:default:stand-in\" cannot {route.Verb} resource \"{resource.Plural}\" in API group \"{resource.Group}\" {where}";
            var details = new JsonObject { ["kind"] = resource.Plural };
            if (route.Name is not null)
            {
                details["name"] = route.Name;
            }

            if (resource.Group.Length > 0)
            {
                details["group"] = resource.Group;
            }

            await WriteAsync(context, 403, ApiPayloads.Status(403, "Forbidden", message, details)).ConfigureAwait(false);
            return;
        }

        if (fault.MalformedBodies)
        {
            string broken = route.Verb == "watch" ? "{\"type\":\"ADDED\",\"object\":{\"kind\":" : "{\"kind\":\"Status\",\"apiVersion\":";
            await WriteAsync(context, 200, broken).ConfigureAwait(false);
            return;
        }

        await AnswerAsync(context, route, aborted).ConfigureAwait(false);
    }

    private async Task AnswerAsync(HttpContext context, ApiRoute route, CancellationToken aborted)
    {
        switch (route.Kind)
        {
            case RouteKind.Version:
                await WriteAsync(context, 200, ApiPayloads.Version(_options.ServerVersion)).ConfigureAwait(false);
                return;
            case RouteKind.CoreVersions:
                await WriteAsync(context, 200, ApiPayloads.ApiVersions(BaseAddress.Authority)).ConfigureAwait(false);
                return;
            case RouteKind.Groups:
                await WriteAsync(context, 200, ApiPayloads.ApiGroupList()).ConfigureAwait(false);
                return;
            case RouteKind.Group:
                await WriteAsync(context, 200, ApiPayloads.ApiGroup(route.GroupVersion!)).ConfigureAwait(false);
                return;
            case RouteKind.ResourceList:
                await WriteAsync(context, 200, ApiPayloads.ResourceList(route.GroupVersion!)).ConfigureAwait(false);
                return;
            case RouteKind.Namespace:
                await WriteAsync(context, 200, ApiPayloads.Namespace(route.Namespace!)).ConfigureAwait(false);
                return;
            case RouteKind.Resource:
                break;
            default:
                await WriteAsync(context, 404, ApiPayloads.Status(404, "NotFound", "the server could not find the requested resource")).ConfigureAwait(false);
                return;
        }

        ResourceType resource = route.Resource!;
        IQueryCollection query = context.Request.Query;
        if (route.Verb == "get")
        {
            string? text = _store.GetText(resource, route.Namespace!, route.Name!);
            if (text is null)
            {
                var details = new JsonObject { ["name"] = route.Name, ["kind"] = resource.Plural };
                if (resource.Group.Length > 0)
                {
                    details["group"] = resource.Group;
                }

                string what = resource.Group.Length == 0 ? resource.Plural : $"{resource.Plural}.{resource.Group}";
                await WriteAsync(context, 404, ApiPayloads.Status(404, "NotFound", $"{what} \"{route.Name}\" not found", details)).ConfigureAwait(false);
                return;
            }

            await WriteAsync(context, 200, text).ConfigureAwait(false);
            return;
        }

        Selector? labels = Selector.ParseLabels(query["labelSelector"], out string? labelError);
        Selector? fields = Selector.ParseFields(query["fieldSelector"], resource.SelectableFields, out string? fieldError);
        if (labels is null || fields is null)
        {
            await WriteAsync(context, 400, ApiPayloads.Status(400, "BadRequest", labelError ?? fieldError!)).ConfigureAwait(false);
            return;
        }

        if (route.Verb == "watch")
        {
            await WatchAsync(context, resource, route.Namespace, labels, fields, query, aborted).ConfigureAwait(false);
            return;
        }

        int limit = 0;
        if (query["limit"] is { Count: > 0 } limitText && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit)))
        {
            await WriteAsync(context, 400, ApiPayloads.Status(400, "BadRequest", $"limit: Invalid value: \"{limitText}\"")).ConfigureAwait(false);
            return;
        }

        if (!TryParseResourceVersion(query, out long resourceVersion, out string? badVersion))
        {
            await WriteAsync(context, 400, ApiPayloads.Status(400, "BadRequest", badVersion!)).ConfigureAwait(false);
            return;
        }

        ListResult list = _store.List(resource, route.Namespace, labels, fields, limit, Value(query["continue"]), resourceVersion, Value(query["resourceVersionMatch"]));
        await WriteAsync(context, list.StatusCode, list.Body ?? ApiPayloads.Status(list.StatusCode, list.Reason!, list.Message!)).ConfigureAwait(false);
    }

    private async Task WatchAsync(HttpContext context, ResourceType resource, string? ns, Selector labels, Selector fields, IQueryCollection query, CancellationToken aborted)
    {
        TimeSpan? timeout = null;
        if (query["timeoutSeconds"] is { Count: > 0 } timeoutText)
        {
            if (!long.TryParse(timeoutText, NumberStyles.None, CultureInfo.InvariantCulture, out long seconds))
            {
                await WriteAsync(context, 400, ApiPayloads.Status(400, "BadRequest", $"timeoutSeconds: Invalid value: \"{timeoutText}\"")).ConfigureAwait(false);
                return;
            }

            timeout = TimeSpan.FromSeconds(seconds);
        }

        bool bookmarks = query["allowWatchBookmarks"] is { Count: > 0 } allow && string.Equals(allow, "true", StringComparison.OrdinalIgnoreCase);
        if (!TryParseResourceVersion(query, out long resourceVersion, out string? badVersion))
        {
            await WriteAsync(context, 400, ApiPayloads.Status(400, "BadRequest", badVersion!)).ConfigureAwait(false);
            return;
        }

        using WatchStream watch = _store.OpenWatch(resource, ns, labels, fields, resourceVersion, bookmarks);

        using var timeoutCts = timeout is TimeSpan t ? new CancellationTokenSource(t, _timeProvider) : new CancellationTokenSource();
        using var ends = CancellationTokenSource.CreateLinkedTokenSource(aborted, timeoutCts.Token);
        try
        {
            // Headers go out at once, as the real server does, so clients know the watch is established.
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/json";
            context.Response.Headers.CacheControl = "no-cache, private";
            await context.Response.StartAsync(ends.Token).ConfigureAwait(false);
            await context.Response.Body.FlushAsync(ends.Token).ConfigureAwait(false);
            await foreach (string line in watch.Lines.ReadAllAsync(ends.Token).ConfigureAwait(false))
            {
                byte[] bytes = Encoding.UTF8.GetBytes(line + "\n");
                await context.Response.Body.WriteAsync(bytes, ends.Token).ConfigureAwait(false);
                await context.Response.Body.FlushAsync(ends.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (ends.IsCancellationRequested)
        {
            // timeoutSeconds passed (a clean end), the client went away, or the stand-in stops.
        }
        catch (IOException)
        {
            // The client closed the connection mid-write.
        }
        finally
        {
            _store.CloseWatch(watch);
        }

        if (watch.Aborted)
        {
            context.Abort();
        }
    }

    private bool IsAuthenticated(HttpRequest request)
    {
        string? header = request.Headers.Authorization;
        return header is not null
            && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header["Bearer ".Length..].Trim()), Encoding.UTF8.GetBytes(Token));
    }

    private KubernetesApiCall Record(HttpRequest request, ApiRoute route)
    {
        var call = new KubernetesApiCall
        {
            Sequence = Interlocked.Increment(ref _sequence),
            Time = _timeProvider.GetUtcNow(),
            Method = request.Method.ToUpperInvariant(),
            Protocol = request.Protocol,
            Path = request.Path.Value ?? string.Empty,
            Query = request.QueryString.Value ?? string.Empty,
            Verb = route.Verb,
            Resource = route.Resource?.Plural,
            Namespace = route.Namespace,
            Name = route.Name,
            Accept = request.Headers.Accept.Count > 0 ? request.Headers.Accept.ToString() : null,
            UserAgent = request.Headers.UserAgent.Count > 0 ? request.Headers.UserAgent.ToString() : null,
        };
        List<TaskCompletionSource<KubernetesApiCall>> matched = [];
        lock (_gate)
        {
            _calls.Add(call);
            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Match(call))
                {
                    matched.Add(_waiters[i].Completion);
                    _waiters.RemoveAt(i);
                }
            }
        }

        foreach (TaskCompletionSource<KubernetesApiCall> completion in matched)
        {
            completion.TrySetResult(call);
        }

        return call;
    }

    private static string? Value(StringValues values) => values.Count > 0 ? values[0] : null;

    // Unset and "0" both mean "any state" (0); anything else must be a number, as the real server's are.
    private static bool TryParseResourceVersion(IQueryCollection query, out long resourceVersion, out string? error)
    {
        (resourceVersion, error) = (0, null);
        string? text = Value(query["resourceVersion"]);
        if (string.IsNullOrEmpty(text) || long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out resourceVersion))
        {
            return true;
        }

        error = $"invalid resource version: {text}";
        return false;
    }

    private static async Task WriteAsync(HttpContext context, int statusCode, string body)
    {
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = "application/json";
        byte[] bytes = Encoding.UTF8.GetBytes(body);
        context.Response.ContentLength = bytes.Length;
        try
        {
            await context.Response.Body.WriteAsync(bytes, context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            // The client went away.
        }
    }
}
