using Microsoft.Extensions.Logging;

namespace GracefulShutdown.Kubernetes.Diagnostics;

/// <summary>
/// Every log line of the Kubernetes add-on. Event ids 500–549 are reserved for it by the core library's numbering
/// (see GracefulShutdown's Log); they are a public contract: never renumber, and keep EventName explicit.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(500, LogLevel.Information, "Kubernetes add-on off: {Reason}. The shutdown runs on the configured budget alone.",
        EventName = "KubernetesOff")]
    public static partial void Off(this ILogger logger, string reason);

    [LoggerMessage(501, LogLevel.Information,
        "Kubernetes add-on watching pod {PodNamespace}/{PodName} and the EndpointSlices of its namespace on {Server} (readiness hold while the last endpoint: {Hold}).",
        EventName = "KubernetesWatching")]
    public static partial void Watching(this ILogger logger, string podNamespace, string podName, string server, bool hold);

    [LoggerMessage(502, LogLevel.Warning,
        "Kubernetes API: {Operation} {Resource} failed ({Fault}): {Message}. The shutdown runs as without the add-on until it answers; retrying in {RetryIn}. " +
        "(Logged once per kind of fault.)", EventName = "KubernetesApiFault")]
    public static partial void Fault(this ILogger logger, string operation, string resource, string fault, string message, TimeSpan retryIn);

    [LoggerMessage(503, LogLevel.Debug, "Kubernetes API: {Operation} {Resource} failed again ({Fault}): {Message}; retrying in {RetryIn}.",
        EventName = "KubernetesApiFaultRepeated")]
    public static partial void FaultRepeated(this ILogger logger, string operation, string resource, string fault, string message, TimeSpan retryIn);

    [LoggerMessage(504, LogLevel.Information, "Kubernetes API answers again: {Resource} listed.", EventName = "KubernetesApiRecovered")]
    public static partial void Recovered(this ILogger logger, string resource);

    [LoggerMessage(505, LogLevel.Debug, "Kubernetes API: the {Resource} watch expired (410 Gone); listing again.", EventName = "KubernetesWatchExpired")]
    public static partial void WatchExpired(this ILogger logger, string resource);

    [LoggerMessage(506, LogLevel.Information,
        "This pod is the last ready endpoint of Service {Services}: readiness keeps passing after the drain begins until another endpoint is ready.",
        EventName = "KubernetesLastEndpoint")]
    public static partial void LastEndpoint(this ILogger logger, string services);

    [LoggerMessage(507, LogLevel.Information, "This pod is no longer the last ready endpoint ({Why}): readiness fails as usual when draining.",
        EventName = "KubernetesNoLongerLastEndpoint")]
    public static partial void NoLongerLastEndpoint(this ILogger logger, string why);

    [LoggerMessage(508, LogLevel.Information, "Graceful node shutdown ({Reason}: {Message}): the kubelet does not update endpoints, the traffic wait is skipped.",
        EventName = "KubernetesNodeShutdown")]
    public static partial void NodeShutdown(this ILogger logger, string reason, string message);

    [LoggerMessage(509, LogLevel.Warning, "Kubernetes add-on off: the API configuration could not be read ({Source}). The shutdown runs on the configured budget alone.",
        EventName = "KubernetesConfigurationFailed")]
    public static partial void ConfigurationFailed(this ILogger logger, string source, Exception exception);

    [LoggerMessage(510, LogLevel.Information, "EndpointSlice {Slice} published this pod's endpoint as ready={Ready}, serving={Serving}, terminating={Terminating}.",
        EventName = "KubernetesEndpointNotReady")]
    public static partial void EndpointNotReady(this ILogger logger, string slice, bool ready, bool serving, bool terminating);

    [LoggerMessage(511, LogLevel.Debug, "Kubernetes API: the {Resource} watch ended after {Events} events; opening it again from resource version {ResourceVersion}.",
        EventName = "KubernetesWatchReopened")]
    public static partial void WatchReopened(this ILogger logger, string resource, int events, string resourceVersion);

    [LoggerMessage(512, LogLevel.Debug,
        "Kubernetes API: the {Resource} watch connection broke after {Events} events ({Message}); opening it again from resource version {ResourceVersion}.",
        EventName = "KubernetesWatchDropped")]
    public static partial void WatchDropped(this ILogger logger, string resource, int events, string? resourceVersion, string message);
}
