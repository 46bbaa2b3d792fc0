using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulShutdown.Eureka.Internal;

/// <summary>How one Eureka operation ended, across every server tried.</summary>
internal enum EurekaCallOutcome
{
    /// <summary>A 2xx answer.</summary>
    Success,

    /// <summary>404: no such instance or lease. A definitive answer; no other server is tried.</summary>
    NotFound,

    /// <summary>Another 4xx (e.g. 400 "Missing instanceId"): a definitive answer; no other server is tried.</summary>
    Rejected,

    /// <summary>Every server failed: transport error or 5xx.</summary>
    Failed,

    /// <summary>Every server failed and the last one did not answer within the request timeout.</summary>
    TimedOut,
}

/// <summary>The result of one operation: the outcome, the server that gave it (redacted) and the body of a 2xx answer.</summary>
internal sealed record EurekaCallResult(EurekaCallOutcome Outcome, string Server, int? StatusCode, string? Detail, byte[]? Body = null)
{
    public bool Succeeded => Outcome == EurekaCallOutcome.Success;
}

/// <summary>
/// The Eureka REST operations this client needs, over <see cref="IHttpClientFactory"/>. Each call to each server is bounded by
/// <c>eureka:client:requestTimeoutSeconds</c> (measured with the injected <see cref="TimeProvider"/>); servers are tried in the
/// configured order, starting with the last one that answered, and a transport error, a 5xx or a timeout moves on to the next.
/// </summary>
internal sealed class EurekaHttpClient
{
    public const string HttpClientName = "GracefulShutdown.Eureka";

    private static readonly MediaTypeWithQualityHeaderValue Json = new("application/json");
    private static readonly MediaTypeHeaderValue JsonContentType = new("application/json") { CharSet = "utf-8" };

    private readonly IHttpClientFactory _httpClientFactory;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly EurekaMetrics _metrics;
    private readonly EurekaServer[] _servers;
    private readonly TimeSpan _timeout;
    private int _preferred;

    public EurekaHttpClient(IHttpClientFactory httpClientFactory, IOptions<EurekaClientOptions> options, TimeProvider time,
        ILogger<EurekaHttpClient> logger, EurekaMetrics metrics)
    {
        _httpClientFactory = httpClientFactory;
        _time = time;
        _logger = logger;
        _metrics = metrics;
        _servers = ParseServers(options.Value.ServiceUrl).Select(static uri => new EurekaServer(uri)).ToArray();
        _timeout = TimeSpan.FromSeconds(options.Value.RequestTimeoutSeconds);
    }

    /// <summary>Gets the configured servers, redacted for logs.</summary>
    public IReadOnlyList<string> Servers => _servers.Select(static s => s.Display).ToArray();

    public Task<EurekaCallResult> RegisterAsync(EurekaInstanceIdentity instance, EurekaStatus status, EurekaStatus overriddenStatus,
        long lastDirtyTimestamp, CancellationToken cancellationToken)
    {
        // Serialised up front so the body goes out with a Content-Length: some Eureka servers and proxies mishandle chunked POSTs.
        byte[] body = JsonSerializer.SerializeToUtf8Bytes(instance.ToRegisterRequest(status, overriddenStatus, lastDirtyTimestamp),
            EurekaJsonContext.Default.RegisterRequest);
        return SendAsync("register", HttpMethod.Post, $"apps/{instance.AppPath}", () =>
        {
            var content = new ByteArrayContent(body);
            content.Headers.ContentType = JsonContentType;
            return content;
        }, cancellationToken);
    }

    public Task<EurekaCallResult> HeartbeatAsync(EurekaInstanceIdentity instance, EurekaStatus status, long lastDirtyTimestamp,
        CancellationToken cancellationToken) =>
        SendAsync("heartbeat", HttpMethod.Put,
            $"apps/{instance.AppPath}/{instance.InstancePath}?status={status.ToWire()}&lastDirtyTimestamp={Format(lastDirtyTimestamp)}",
            null, cancellationToken);

    public Task<EurekaCallResult> SetStatusOverrideAsync(EurekaInstanceIdentity instance, EurekaStatus status, long lastDirtyTimestamp,
        CancellationToken cancellationToken) =>
        SendAsync("status_override", HttpMethod.Put,
            $"apps/{instance.AppPath}/{instance.InstancePath}/status?value={status.ToWire()}&lastDirtyTimestamp={Format(lastDirtyTimestamp)}",
            null, cancellationToken);

    public Task<EurekaCallResult> DeregisterAsync(EurekaInstanceIdentity instance, CancellationToken cancellationToken) =>
        SendAsync("deregister", HttpMethod.Delete, $"apps/{instance.AppPath}/{instance.InstancePath}", null, cancellationToken);

    public Task<EurekaCallResult> GetInstanceAsync(EurekaInstanceIdentity instance, CancellationToken cancellationToken) =>
        SendAsync("get_instance", HttpMethod.Get, $"apps/{instance.AppPath}/{instance.InstancePath}", null, cancellationToken);

    private async Task<EurekaCallResult> SendAsync(string operation, HttpMethod method, string relativeUri, Func<HttpContent>? content,
        CancellationToken cancellationToken)
    {
        int first = Volatile.Read(ref _preferred);
        EurekaCallResult? last = null;
        for (int i = 0; i < _servers.Length; i++)
        {
            int index = (first + i) % _servers.Length;
            EurekaServer server = _servers[index];
            EurekaCallResult result = await SendOnceAsync(operation, method, server, relativeUri, content, cancellationToken).ConfigureAwait(false);
            _logger.CallAttempt(operation, server.Display, result.Outcome, result.Detail);
            if (result.Outcome is EurekaCallOutcome.Success or EurekaCallOutcome.NotFound or EurekaCallOutcome.Rejected)
            {
                if (index != first && Interlocked.CompareExchange(ref _preferred, index, first) == first)
                {
                    _logger.FailedOver(_servers[first].Display, server.Display);
                }

                return result;
            }

            last = result;
        }

        return last ?? new EurekaCallResult(EurekaCallOutcome.Failed, "(none)", null, "no Eureka server is configured");
    }

    private async Task<EurekaCallResult> SendOnceAsync(string operation, HttpMethod method, EurekaServer server, string relativeUri,
        Func<HttpContent>? content, CancellationToken cancellationToken)
    {
        long start = _time.GetTimestamp();
        using var timeout = new CancellationTokenSource(_timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        EurekaCallResult result;
        try
        {
            using var request = new HttpRequestMessage(method, new Uri(server.BaseUri, relativeUri));
            request.Headers.Accept.Add(Json);
            request.Headers.Authorization = server.Authorization;
            request.Content = content?.Invoke();
            HttpClient client = _httpClientFactory.CreateClient(HttpClientName);
            using HttpResponseMessage response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, linked.Token)
                .ConfigureAwait(false);
            byte[] body = await response.Content.ReadAsByteArrayAsync(linked.Token).ConfigureAwait(false);
            int code = (int)response.StatusCode;
            result = code switch
            {
                >= 200 and < 300 => new EurekaCallResult(EurekaCallOutcome.Success, server.Display, code, $"HTTP {code}", body),
                (int)HttpStatusCode.NotFound => new EurekaCallResult(EurekaCallOutcome.NotFound, server.Display, code, "HTTP 404"),
                >= 400 and < 500 => new EurekaCallResult(EurekaCallOutcome.Rejected, server.Display, code, $"HTTP {code} {Snippet(body)}"),
                _ => new EurekaCallResult(EurekaCallOutcome.Failed, server.Display, code, $"HTTP {code} {Snippet(body)}"),
            };
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            result = new EurekaCallResult(EurekaCallOutcome.TimedOut, server.Display, null, $"no answer within {_timeout.TotalSeconds:0.###} s");
        }
        catch (HttpRequestException ex)
        {
            result = new EurekaCallResult(EurekaCallOutcome.Failed, server.Display, null, ex.Message);
        }

        _metrics.RecordCall(operation, result.Outcome, _time.GetElapsedTime(start).TotalSeconds);
        return result;
    }

    private static string Format(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Snippet(byte[] body)
    {
        if (body.Length == 0)
        {
            return string.Empty;
        }

        string text = Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, 200)).ReplaceLineEndings(" ").Trim();
        return $"'{text}'";
    }

    /// <summary>Splits <c>eureka:client:serviceUrl</c>; invalid entries are left out (the options validator reports them).</summary>
    internal static IReadOnlyList<Uri> ParseServers(string? serviceUrl)
    {
        var servers = new List<Uri>();
        foreach (string part in (serviceUrl ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (Uri.TryCreate(part, UriKind.Absolute, out Uri? uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
            {
                servers.Add(uri);
            }
        }

        return servers;
    }

    /// <summary>One server: its base URI with a trailing slash and without user info, which becomes a Basic authorization header.</summary>
    private sealed class EurekaServer
    {
        public EurekaServer(Uri uri)
        {
            var builder = new UriBuilder(uri) { UserName = string.Empty, Password = string.Empty };
            if (!builder.Path.EndsWith('/'))
            {
                builder.Path += "/";
            }

            BaseUri = builder.Uri;
            Display = BaseUri.GetLeftPart(UriPartial.Path);
            if (!string.IsNullOrEmpty(uri.UserInfo))
            {
                string credentials = Uri.UnescapeDataString(uri.UserInfo);
                Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
            }
        }

        public Uri BaseUri { get; }

        /// <summary>Gets the URL without credentials, for logs.</summary>
        public string Display { get; }

        public AuthenticationHeaderValue? Authorization { get; }
    }
}
