using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using GracefulShutdown.Eureka.Configuration;
using GracefulShutdown.Eureka.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulShutdown.Eureka.Client;

/// <summary>
/// The Eureka REST calls. Each call to each server is bounded by <c>eureka:client:requestTimeoutSeconds</c>; a transport error,
/// a 5xx or a timeout moves on to the next server, and later calls start with the last one that answered.
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
        _servers = EurekaServer.Parse(options.Value.ServiceUrl);
        _timeout = TimeSpan.FromSeconds(options.Value.RequestTimeoutSeconds);
    }

    /// <summary>Gets the configured servers, redacted for logs.</summary>
    public IReadOnlyList<string> Servers => _servers.Select(static s => s.Display).ToArray();

    /// <summary>
    /// Reads the application as callers fetch it, from the server's response cache (<c>GET apps/{app}</c>), on the given server only
    /// (index into <see cref="Servers"/>): each server's cache turns over on its own timer, and a caller may fetch from any of them.
    /// </summary>
    public async Task<EurekaCallResult> GetApplicationAsync(int server, EurekaInstanceIdentity instance, CancellationToken cancellationToken)
    {
        EurekaServer target = _servers[server];
        EurekaCallResult result = await SendOnceAsync(EurekaOperation.GetApplication, HttpMethod.Get, target, $"apps/{instance.AppPath}", null,
            cancellationToken).ConfigureAwait(false);
        _logger.CallAttempt(EurekaOperation.GetApplication.ToName(), target.Display, result.Outcome, result.Detail);
        return result;
    }

    public Task<EurekaCallResult> RegisterAsync(EurekaInstanceIdentity instance, EurekaStatus status, EurekaStatus overriddenStatus,
        long lastDirtyTimestamp, CancellationToken cancellationToken)
    {
        // Serialised up front so the body goes out with a Content-Length: some Eureka servers and proxies mishandle chunked POSTs.
        byte[] body = JsonSerializer.SerializeToUtf8Bytes(RegisterRequest.Create(instance, status, overriddenStatus, lastDirtyTimestamp),
            EurekaJsonContext.Default.RegisterRequest);
        return SendAsync(EurekaOperation.Register, HttpMethod.Post, $"apps/{instance.AppPath}", () =>
        {
            var content = new ByteArrayContent(body);
            content.Headers.ContentType = JsonContentType;
            return content;
        }, cancellationToken);
    }

    public Task<EurekaCallResult> HeartbeatAsync(EurekaInstanceIdentity instance, EurekaStatus status, long lastDirtyTimestamp,
        CancellationToken cancellationToken) =>
        SendAsync(EurekaOperation.Heartbeat, HttpMethod.Put,
            $"apps/{instance.AppPath}/{instance.InstancePath}?status={status.ToWire()}&lastDirtyTimestamp={Format(lastDirtyTimestamp)}",
            null, cancellationToken);

    public Task<EurekaCallResult> SetStatusOverrideAsync(EurekaInstanceIdentity instance, EurekaStatus status, long lastDirtyTimestamp,
        CancellationToken cancellationToken) =>
        SendAsync(EurekaOperation.StatusOverride, HttpMethod.Put,
            $"apps/{instance.AppPath}/{instance.InstancePath}/status?value={status.ToWire()}&lastDirtyTimestamp={Format(lastDirtyTimestamp)}",
            null, cancellationToken);

    public Task<EurekaCallResult> DeregisterAsync(EurekaInstanceIdentity instance, CancellationToken cancellationToken) =>
        SendAsync(EurekaOperation.Deregister, HttpMethod.Delete, $"apps/{instance.AppPath}/{instance.InstancePath}", null, cancellationToken);

    public Task<EurekaCallResult> GetInstanceAsync(EurekaInstanceIdentity instance, CancellationToken cancellationToken) =>
        SendAsync(EurekaOperation.GetInstance, HttpMethod.Get, $"apps/{instance.AppPath}/{instance.InstancePath}", null, cancellationToken);

    private async Task<EurekaCallResult> SendAsync(EurekaOperation operation, HttpMethod method, string relativeUri, Func<HttpContent>? content,
        CancellationToken cancellationToken)
    {
        int first = Volatile.Read(ref _preferred);
        EurekaCallResult? last = null;
        for (int i = 0; i < _servers.Length; i++)
        {
            int index = (first + i) % _servers.Length;
            EurekaServer server = _servers[index];
            EurekaCallResult result = await SendOnceAsync(operation, method, server, relativeUri, content, cancellationToken).ConfigureAwait(false);
            _logger.CallAttempt(operation.ToName(), server.Display, result.Outcome, result.Detail);
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

    private async Task<EurekaCallResult> SendOnceAsync(EurekaOperation operation, HttpMethod method, EurekaServer server, string relativeUri,
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
}
