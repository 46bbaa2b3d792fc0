using System.Net;
using System.Security.Cryptography;
using System.Text;
using GracefulShutdown.Diagnostics;
using GracefulShutdown.Hosting;
using GracefulShutdown.Lifecycle;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace GracefulShutdown.Endpoints;

/// <summary>
/// The preStop hook target: validates the whole request, then authorizes the caller, and only then begins the drain and
/// answers when the traffic wait is over (<c>?wait=false</c>: at once). A refused or malformed call changes nothing.
/// </summary>
internal sealed class PreStopEndpoint
{
    private readonly ShutdownConductor _conductor;
    private readonly PreStopWatchdog _watchdog;
    private readonly GracefulShutdownOptions _options;
    private readonly ILogger _logger;
    private readonly byte[]? _token;
    private readonly bool _loopbackAllowed;
    private readonly string _refusal;

    public PreStopEndpoint(ShutdownConductor conductor, PreStopWatchdog watchdog, IOptions<GracefulShutdownOptions> options,
        KubernetesEnvironment kubernetes, ILogger<PreStopEndpoint> logger)
    {
        _conductor = conductor;
        _watchdog = watchdog;
        _options = options.Value;
        _logger = logger;
        _token = string.IsNullOrEmpty(_options.PreStop.Token) ? null : Encoding.UTF8.GetBytes(_options.PreStop.Token);
        _loopbackAllowed = LoopbackAllowed(_options.PreStop, kubernetes);
        _refusal = _loopbackAllowed
            ? "only loopback callers may call it unless GracefulShutdown:ManagementPort or GracefulShutdown:PreStop:Token is set"
            : kubernetes.IsKubernetes && _options.PreStop.AllowLoopback is null
                ? "inside Kubernetes no caller may call it unless GracefulShutdown:ManagementPort or GracefulShutdown:PreStop:Token is set " +
                  "(loopback callers may be anyone behind a same-pod proxy; GracefulShutdown:PreStop:AllowLoopback=true admits them)"
                : "no caller may call it unless GracefulShutdown:ManagementPort or GracefulShutdown:PreStop:Token is set " +
                  "(GracefulShutdown:PreStop:AllowLoopback is false)";
        Handler = HandleAsync;
    }

    /// <summary>
    /// Whether loopback callers may call preStop when neither a token nor a management port is set: outside Kubernetes by
    /// default, never inside it unless allowed, because a same-pod proxy (a mesh sidecar) connects from loopback.
    /// </summary>
    public static bool LoopbackAllowed(PreStopOptions options, KubernetesEnvironment kubernetes) =>
        options.AllowLoopback ?? !kubernetes.IsKubernetes;

    public RequestDelegate Handler { get; }

    private async Task HandleAsync(HttpContext context)
    {
        // GET only: HEAD is a safe method (monitors, link checkers) and must not begin a drain.
        if (!HttpMethods.IsGet(context.Request.Method))
        {
            await EndpointResponses.GetOnlyMethodNotAllowedAsync(context).ConfigureAwait(false);
            return;
        }

        string remote = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        if (Parse(context, out bool wait) is string malformed)
        {
            _logger.PreStopMalformed(remote, malformed);
            await EndpointResponses.ProblemAsync(context, StatusCodes.Status400BadRequest, "Malformed preStop request", malformed).ConfigureAwait(false);
            return;
        }

        if (Authorize(context) is string refused)
        {
            _logger.PreStopRefused(remote, refused);
            await EndpointResponses.ProblemAsync(context, StatusCodes.Status403Forbidden, "preStop refused", refused).ConfigureAwait(false);
            return;
        }

        _logger.PreStopReceived(remote, context.Request.Headers.UserAgent.ToString());
        if (_conductor.Begin(DrainTrigger.PreStop))
        {
            // SIGTERM normally follows; if it never does, the watchdog stops the application.
            _watchdog.Arm();
        }

        Task<TrafficWaitResult> trafficWait = _conductor.WaitForTrafficAsync(DrainTrigger.PreStop);
        HttpResponse response = context.Response;
        EndpointResponses.SetNoCache(response.Headers);
        response.ContentType = "text/plain; charset=utf-8";
        if (!wait)
        {
            response.StatusCode = StatusCodes.Status202Accepted;
            await EndpointResponses.WriteTextAsync(context, "Drain started.").ConfigureAwait(false);
            return;
        }

        // The caller going away stops our waiting, not the drain.
        TrafficWaitResult result = await trafficWait.WaitAsync(context.RequestAborted).ConfigureAwait(false);
        response.StatusCode = StatusCodes.Status200OK;
        await EndpointResponses.WriteTextAsync(context, $"Traffic wait over ({result.Outcome}) after {result.Elapsed.TotalSeconds:0.000} s.")
            .ConfigureAwait(false);
    }

    /// <summary>Validates everything before anything changes. Returns why the request is malformed, or null.</summary>
    private string? Parse(HttpContext context, out bool wait)
    {
        wait = true;
        foreach (KeyValuePair<string, StringValues> parameter in context.Request.Query)
        {
            if (!parameter.Key.Equals("wait", StringComparison.OrdinalIgnoreCase))
            {
                return $"Unknown query parameter '{parameter.Key}'. The only parameter is 'wait' (true or false).";
            }

            if (parameter.Value.Count != 1 || !bool.TryParse(parameter.Value[0], out wait))
            {
                return $"Query parameter 'wait' must be given once, as true or false; it was '{parameter.Value}'.";
            }
        }

        if (context.Request.Headers.TryGetValue(_options.PreStop.TokenHeaderName, out StringValues token) && token.Count > 1)
        {
            return $"Header '{_options.PreStop.TokenHeaderName}' must appear once; it appeared {token.Count} times.";
        }

        return null;
    }

    /// <summary>Returns why the caller is refused, or null.</summary>
    private string? Authorize(HttpContext context)
    {
        if (_token is not null)
        {
            string? sent = context.Request.Headers[_options.PreStop.TokenHeaderName];
            return string.IsNullOrEmpty(sent) || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(sent), _token)
                ? $"the '{_options.PreStop.TokenHeaderName}' header is missing or wrong"
                : null;
        }

        // A management port is reachable only where the manifest exposes it; the router already limited us to it.
        if (_options.ManagementPort is not null)
        {
            return null;
        }

        IPAddress? address = context.Connection.RemoteIpAddress;
        if (address is not null && address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        return _loopbackAllowed && address is not null && IPAddress.IsLoopback(address) ? null : _refusal;
    }
}
