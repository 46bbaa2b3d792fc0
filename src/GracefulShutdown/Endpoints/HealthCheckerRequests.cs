using GracefulShutdown.Checkers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace GracefulShutdown.Endpoints;

/// <summary>
/// Health-check requests into the <see cref="HealthCheckerLedger"/>: the readiness endpoint and the gRPC health service's
/// <c>Check</c> (every caller but the kubelet), and the paths declared in <c>HealthCheckers:Paths</c> (callers a profile
/// recognises, or that send no User-Agent). The middleware calls it only for those paths: application requests never get here.
/// </summary>
internal sealed class HealthCheckerRequests
{
    /// <summary>The gRPC health service's unary check; Watch is a stream and says nothing per probe.</summary>
    public const string GrpcHealthCheckPath = "/grpc.health.v1.Health/Check";

    private const string KubeletPrefix = "kube-probe/";

    private readonly HealthCheckerLedger _ledger;
    private readonly ProbeStatus _probes;
    private readonly TimeProvider _time;
    private readonly HealthCheckerOptions _options;

    public HealthCheckerRequests(HealthCheckerLedger ledger, ProbeStatus probes, LifecycleEndpoints endpoints, TimeProvider time)
    {
        _ledger = ledger;
        _probes = probes;
        _time = time;
        _options = endpoints.Options.HealthCheckers;
        DeclaredPaths = _options.Enabled ? _options.Paths : [];
    }

    public bool Enabled => _ledger.Enabled;

    /// <summary>Gets the declared health-check paths; empty when health checks are not read.</summary>
#pragma warning disable CA1819 // Read by the middleware without allocation.
    public string[] DeclaredPaths { get; }
#pragma warning restore CA1819

    public static bool IsGrpcHealthCheck(string? path) => string.Equals(path, GrpcHealthCheckPath, StringComparison.Ordinal);

    /// <summary>Whether the request is a checker's probe of a declared path: the path matches and a profile recognises the caller.</summary>
    public bool IsDeclaredCheck(HttpContext context, string? path)
    {
        if (path is null || !IsDeclaredPath(path))
        {
            return false;
        }

        string userAgent = UserAgent(context.Request.Headers.UserAgent);
        return !IsKubelet(userAgent)
            && (userAgent == HealthCheckerProfile.NoUserAgent || HealthCheckerProfile.Recognises(userAgent, _options.Profiles));
    }

    /// <summary>Runs the probe's handler and records its answer, unless the kubelet asked.</summary>
    /// <param name="context">The probe.</param>
    /// <param name="handler">What answers it (the library's endpoint, or the app).</param>
    /// <param name="grpc">Whether it is a gRPC health check: HTTP 200 then fails when readiness is lost (the add-on answers NOT_SERVING).</param>
    public Task ObserveAsync(HttpContext context, RequestDelegate handler, bool grpc)
    {
        string userAgent = UserAgent(context.Request.Headers.UserAgent);
        if (IsKubelet(userAgent))
        {
            return handler(context);
        }

        long arrived = _time.GetTimestamp();
        Task answered = handler(context);
        if (answered.IsCompletedSuccessfully)
        {
            Record(context, userAgent, arrived, grpc);
            return answered;
        }

        return RecordWhenAnsweredAsync(answered, context, userAgent, arrived, grpc);
    }

    private async Task RecordWhenAnsweredAsync(Task answered, HttpContext context, string userAgent, long arrived, bool grpc)
    {
        await answered.ConfigureAwait(false);
        Record(context, userAgent, arrived, grpc);
    }

    private void Record(HttpContext context, string userAgent, long arrived, bool grpc)
    {
        int status = context.Response.StatusCode;
        bool passed = status is >= 200 and < 300 && (!grpc || _probes.StatePasses(GracefulShutdownProbe.Readiness));
        _ledger.Record(userAgent, context.Connection.RemoteIpAddress, arrived, passed);
    }

    private bool IsDeclaredPath(string path)
    {
        foreach (string declared in DeclaredPaths)
        {
            if (string.Equals(path, declared, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsKubelet(string userAgent) => userAgent.StartsWith(KubeletPrefix, StringComparison.OrdinalIgnoreCase);

    // One header value is the server's own string: no allocation. An empty or missing header is HAProxy's httpchk default.
    private static string UserAgent(StringValues header) =>
        header.Count == 0 || string.IsNullOrWhiteSpace(header[0]) ? HealthCheckerProfile.NoUserAgent
            : header.Count == 1 ? header[0]! : header.ToString();
}
