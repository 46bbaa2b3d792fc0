using Grpc.Health.V1;
using Microsoft.Extensions.Logging;

namespace GracefulShutdown.Grpc.Diagnostics;

/// <summary>
/// Every log line of the gRPC add-on. Event ids 400–449 are reserved for it by the core library's numbering
/// (see GracefulShutdown's Log); they are a public contract: never renumber, and keep EventName explicit.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(400, LogLevel.Information,
        "gRPC health service follows the lifecycle: \"\" and '{ReadinessService}' answer like readiness, '{LivenessService}' like liveness, " +
        "'{StartupService}' like start-up; streams end with UNAVAILABLE when the traffic wait is over: {EndStreams}.", EventName = "GrpcConfigured")]
    public static partial void Configured(this ILogger logger, string readinessService, string livenessService, string startupService, bool endStreams);

    [LoggerMessage(401, LogLevel.Information, "gRPC health: '{Service}' is {Status}.", EventName = "GrpcHealthStatusChanged")]
    public static partial void StatusChanged(this ILogger logger, string service, HealthCheckResponse.Types.ServingStatus status);

    // Debug: a server with thousands of open streams would otherwise log thousands of lines at once.
    [LoggerMessage(402, LogLevel.Debug,
        "Ended gRPC stream {Method} with UNAVAILABLE: the traffic wait is over and the client should retry on another replica.",
        EventName = "GrpcStreamEnded")]
    public static partial void StreamEnded(this ILogger logger, string method);

    [LoggerMessage(403, LogLevel.Warning,
        "The gRPC health service is not mapped: call app.MapGrpcHealthChecksService(), or gRPC probes and clients get UNIMPLEMENTED.",
        EventName = "GrpcHealthServiceNotMapped")]
    public static partial void HealthServiceNotMapped(this ILogger logger);

    [LoggerMessage(404, LogLevel.Error, "Evaluating the gRPC health status failed; the last status stays.", EventName = "GrpcHealthUpdateFailed")]
    public static partial void UpdateFailed(this ILogger logger, Exception exception);

    [LoggerMessage(405, LogLevel.Debug, "gRPC stream {Method} kept running past the traffic wait after it was ended: {Error}.",
        EventName = "GrpcStreamHandlerFaulted")]
    public static partial void HandlerFaultedAfterEnd(this ILogger logger, string method, string error);
}
