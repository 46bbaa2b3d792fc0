using System.Buffers;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace GracefulShutdown.Internal;

/// <summary>
/// The four endpoints: startup, readiness and liveness probes, and the preStop hook target.
/// Probe answers come from the coordinator's state first (no allocation), then from cached tagged health checks.
/// </summary>
internal sealed class LifecycleEndpoints
{
    private static readonly byte[] s_started = "Started"u8.ToArray();
    private static readonly byte[] s_starting = "Starting"u8.ToArray();
    private static readonly byte[] s_ready = "Ready"u8.ToArray();
    private static readonly byte[] s_draining = "Draining"u8.ToArray();
    private static readonly byte[] s_alive = "Alive"u8.ToArray();
    private static readonly byte[] s_unhealthy = "Unhealthy"u8.ToArray();
    private static readonly string[] s_getHead = [HttpMethods.Get, HttpMethods.Head];

    private readonly ShutdownCoordinator _coordinator;
    private readonly GracefulShutdownOptions _options;
    private readonly ILogger _logger;
    private readonly ProbeStatus _probes;
    private readonly byte[]? _token;

    public LifecycleEndpoints(ShutdownCoordinator coordinator, ProbeStatus probes, IOptions<GracefulShutdownOptions> options,
        ILogger<LifecycleEndpoints> logger)
    {
        _coordinator = coordinator;
        _probes = probes;
        _options = options.Value;
        _logger = logger;
        _token = string.IsNullOrEmpty(_options.PreStop.Token) ? null : Encoding.UTF8.GetBytes(_options.PreStop.Token);

        Startup = HandleStartup;
        Readiness = HandleReadiness;
        Liveness = HandleLiveness;
        PreStop = HandlePreStopAsync;
    }

    /// <summary>Gets or sets a value indicating whether the app mapped the endpoints itself, which turns the automatic mapping off.</summary>
    public bool MappedByApp { get; set; }

    public RequestDelegate Startup { get; }

    public RequestDelegate Readiness { get; }

    public RequestDelegate Liveness { get; }

    public RequestDelegate PreStop { get; }

    public GracefulShutdownOptions Options => _options;

    internal IEnumerable<string> Methods() => s_getHead;

    /// <summary>
    /// Wraps a handler for routed mapping: with a management port, other local ports answer 404. The connection's local port
    /// decides, never the Host header, which the caller controls.
    /// </summary>
    public RequestDelegate OnManagementPort(RequestDelegate handler)
    {
        if (_options.ManagementPort is not int port)
        {
            return handler;
        }

        return context =>
        {
            if (context.Connection.LocalPort == port)
            {
                return handler(context);
            }

            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        };
    }

    /// <summary>Returns the handler for a request to one of the endpoints, or <see langword="null"/>.</summary>
    public RequestDelegate? Match(HttpContext context)
    {
        if (_options.ManagementPort is int port && context.Connection.LocalPort != port)
        {
            return null;
        }

        string? path = context.Request.Path.Value;
        if (path is null)
        {
            return null;
        }

        GracefulShutdownEndpointOptions endpoints = _options.Endpoints;
        if (path.Equals(endpoints.ReadinessPath, StringComparison.OrdinalIgnoreCase))
        {
            return Readiness;
        }

        if (path.Equals(endpoints.LivenessPath, StringComparison.OrdinalIgnoreCase))
        {
            return Liveness;
        }

        if (path.Equals(endpoints.StartupPath, StringComparison.OrdinalIgnoreCase))
        {
            return Startup;
        }

        return path.Equals(endpoints.PreStopPath, StringComparison.OrdinalIgnoreCase) ? PreStop : null;
    }

    private Task HandleStartup(HttpContext context)
    {
        if (!IsGetOrHead(context))
        {
            return MethodNotAllowedAsync(context);
        }

        return _probes.StatePasses(GracefulShutdownProbe.Startup)
            ? WithChecks(context, GracefulShutdownProbe.Startup, s_started)
            : WriteProbe(context, StatusCodes.Status503ServiceUnavailable, s_starting);
    }

    private Task HandleReadiness(HttpContext context)
    {
        if (!IsGetOrHead(context))
        {
            return MethodNotAllowedAsync(context);
        }

        // The library's own state comes first: an intentionally unready instance runs no check and logs no error.
        if (!_probes.StatePasses(GracefulShutdownProbe.Readiness))
        {
            return WriteProbe(context, StatusCodes.Status503ServiceUnavailable, _coordinator.IsDraining ? s_draining : s_starting);
        }

        return WithChecks(context, GracefulShutdownProbe.Readiness, s_ready);
    }

    private Task HandleLiveness(HttpContext context)
    {
        if (!IsGetOrHead(context))
        {
            return MethodNotAllowedAsync(context);
        }

        // Draining is not a reason to restart the container: liveness stays 200.
        return WithChecks(context, GracefulShutdownProbe.Liveness, s_alive);
    }

    private Task WithChecks(HttpContext context, GracefulShutdownProbe probe, byte[] healthyBody)
    {
        ValueTask<HealthStatus> status = _probes.CheckAsync(probe);
        return status.IsCompletedSuccessfully
            ? WriteStatus(context, status.Result, healthyBody)
            : AwaitAndWrite(context, status, healthyBody);

        static async Task AwaitAndWrite(HttpContext context, ValueTask<HealthStatus> status, byte[] healthyBody) =>
            await WriteStatus(context, await status.ConfigureAwait(false), healthyBody).ConfigureAwait(false);
    }

    private static Task WriteStatus(HttpContext context, HealthStatus status, byte[] healthyBody) =>
        status == HealthStatus.Unhealthy
            ? WriteProbe(context, StatusCodes.Status503ServiceUnavailable, s_unhealthy)
            : WriteProbe(context, StatusCodes.Status200OK, healthyBody);

    private static Task WriteProbe(HttpContext context, int statusCode, byte[] body)
    {
        HttpResponse response = context.Response;
        response.StatusCode = statusCode;
        SetNoCache(response.Headers);
        response.ContentType = "text/plain; charset=utf-8";
        response.ContentLength = body.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            // Buffered write, flushed by the server when the request ends: no async state, no allocation.
            response.BodyWriter.Write(body);
        }

        return Task.CompletedTask;
    }

    private static void SetNoCache(IHeaderDictionary headers)
    {
        headers.CacheControl = "no-store, no-cache";
        headers.Pragma = "no-cache";
        headers.Expires = "Thu, 01 Jan 1970 00:00:00 GMT";
    }

    private async Task HandlePreStopAsync(HttpContext context)
    {
        if (!IsGetOrHead(context))
        {
            await MethodNotAllowedAsync(context).ConfigureAwait(false);
            return;
        }

        string remote = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        if (ParsePreStopRequest(context, out bool wait) is string malformed)
        {
            _logger.PreStopMalformed(remote, malformed);
            await ProblemAsync(context, StatusCodes.Status400BadRequest, "Malformed preStop request", malformed).ConfigureAwait(false);
            return;
        }

        if (Authorize(context) is string refused)
        {
            _logger.PreStopRefused(remote, refused);
            await ProblemAsync(context, StatusCodes.Status403Forbidden, "preStop refused", refused).ConfigureAwait(false);
            return;
        }

        _logger.PreStopReceived(remote, context.Request.Headers.UserAgent.ToString());
        _coordinator.BeginDrain(DrainTrigger.PreStop);
        HttpResponse response = context.Response;
        SetNoCache(response.Headers);
        response.ContentType = "text/plain; charset=utf-8";
        if (!wait)
        {
            response.StatusCode = StatusCodes.Status202Accepted;
            await WriteTextAsync(context, "Drain started.").ConfigureAwait(false);
            return;
        }

        // The caller going away stops our waiting, not the drain.
        TrafficWaitResult result = await _coordinator.WaitForTrafficToLeaveAsync().WaitAsync(context.RequestAborted).ConfigureAwait(false);
        response.StatusCode = StatusCodes.Status200OK;
        await WriteTextAsync(context, $"Traffic wait over ({result.Outcome}) after {result.Elapsed.TotalSeconds:0.000} s.").ConfigureAwait(false);
    }

    /// <summary>Validates everything before anything changes. Returns why the request is malformed, or null.</summary>
    private string? ParsePreStopRequest(HttpContext context, out bool wait)
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

    private string? Authorize(HttpContext context)
    {
        if (_token is not null)
        {
            string? sent = context.Request.Headers[_options.PreStop.TokenHeaderName];
            if (string.IsNullOrEmpty(sent) || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(sent), _token))
            {
                return $"the '{_options.PreStop.TokenHeaderName}' header is missing or wrong";
            }

            return null;
        }

        // A management port is reachable only where the manifest exposes it; Match already limited us to it.
        if (_options.ManagementPort is not null)
        {
            return null;
        }

        IPAddress? address = context.Connection.RemoteIpAddress;
        if (address is not null && address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        return address is not null && IPAddress.IsLoopback(address)
            ? null
            : "only loopback callers may call it unless GracefulShutdown:ManagementPort or GracefulShutdown:PreStop:Token is set";
    }

    private static bool IsGetOrHead(HttpContext context) =>
        HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method);

    private static Task MethodNotAllowedAsync(HttpContext context)
    {
        context.Response.Headers.Allow = "GET, HEAD";
        return ProblemAsync(context, StatusCodes.Status405MethodNotAllowed, "Method not allowed", "This endpoint answers GET and HEAD.");
    }

    private static Task ProblemAsync(HttpContext context, int statusCode, string title, string detail) =>
        Microsoft.AspNetCore.Http.TypedResults.Problem(detail, statusCode: statusCode, title: title).ExecuteAsync(context);

    private static Task WriteTextAsync(HttpContext context, string text) =>
        HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : context.Response.WriteAsync(text);
}
