using GracefulShutdown.Eureka.Client;
using Microsoft.Extensions.Logging;

namespace GracefulShutdown.Eureka.Diagnostics;

/// <summary>Every log line of the Eureka client: event ids 200–299, a public contract (never renumber; keep EventName explicit).</summary>
internal static partial class Log
{
    [LoggerMessage(200, LogLevel.Information,
        "Eureka client is off: {Reason}. Nothing is registered; set eureka:client:serviceUrl to turn it on.", EventName = "EurekaDisabled")]
    public static partial void Disabled(this ILogger logger, string reason);

    [LoggerMessage(201, LogLevel.Information,
        "Eureka client on: {AppName}/{InstanceId} at {HostName} ({IpAddress}), port {Port}, heartbeat every {RenewalIntervalSeconds} s, servers {Servers}.",
        EventName = "EurekaConfigured")]
    public static partial void Configured(this ILogger logger, string appName, string instanceId, string hostName, string ipAddress, int port,
        int renewalIntervalSeconds, string servers);

    [LoggerMessage(202, LogLevel.Warning,
        "GracefulShutdown:TrafficWait:Maximum is {TrafficWaitMaximum}, shorter than eureka:client:propagationSeconds ({Propagation}); " +
        "set it to at least {Propagation} and terminationGracePeriodSeconds to at least {RequiredGracePeriod}.", EventName = "EurekaTrafficWaitTooShort")]
    public static partial void TrafficWaitTooShort(this ILogger logger, TimeSpan trafficWaitMaximum, TimeSpan propagation, TimeSpan requiredGracePeriod);

    [LoggerMessage(203, LogLevel.Information, "Registered with Eureka as {Status}: {AppName}/{InstanceId} via {Server}.", EventName = "EurekaRegistered")]
    public static partial void Registered(this ILogger logger, string status, string appName, string instanceId, string server);

    [LoggerMessage(204, LogLevel.Warning,
        "Could not register with Eureka as {Status} ({Outcome}: {Detail}); the application keeps running and retries in {RetryIn}.",
        EventName = "EurekaRegistrationFailed")]
    public static partial void RegistrationFailed(this ILogger logger, string status, EurekaCallOutcome outcome, string? detail, TimeSpan retryIn);

    [LoggerMessage(205, LogLevel.Information, "Eureka answered again after {FailureCount} failed calls.", EventName = "EurekaRecovered")]
    public static partial void Recovered(this ILogger logger, int failureCount);

    [LoggerMessage(206, LogLevel.Information,
        "Eureka has no lease for {AppName}/{InstanceId} (heartbeat answered 404); registering again as {Status}.", EventName = "EurekaLeaseLost")]
    public static partial void LeaseLost(this ILogger logger, string appName, string instanceId, string status);

    [LoggerMessage(207, LogLevel.Warning, "Eureka heartbeat failed ({Outcome}: {Detail}); retrying in {RetryIn}.", EventName = "EurekaHeartbeatFailed")]
    public static partial void HeartbeatFailed(this ILogger logger, EurekaCallOutcome outcome, string? detail, TimeSpan retryIn);

    [LoggerMessage(208, LogLevel.Information,
        "Drain began: {AppName}/{InstanceId} is OUT_OF_SERVICE in Eureka (status override via {Server}); heartbeats continue until deregistration.",
        EventName = "EurekaOutOfService")]
    public static partial void OutOfService(this ILogger logger, string appName, string instanceId, string server);

    [LoggerMessage(209, LogLevel.Warning,
        "Could not set the OUT_OF_SERVICE override in Eureka ({Outcome}: {Detail}); callers may keep routing here until deregistration. Retrying in {RetryIn}.",
        EventName = "EurekaOutOfServiceFailed")]
    public static partial void OutOfServiceFailed(this ILogger logger, EurekaCallOutcome outcome, string? detail, TimeSpan retryIn);

    [LoggerMessage(210, LogLevel.Information, "Drain began before this instance was registered with Eureka; there is nothing to take out of rotation.",
        EventName = "EurekaDrainBeforeRegistration")]
    public static partial void DrainBeforeRegistration(this ILogger logger);

    [LoggerMessage(211, LogLevel.Information, "Deregistered {AppName}/{InstanceId} from Eureka via {Server}.", EventName = "EurekaDeregistered")]
    public static partial void Deregistered(this ILogger logger, string appName, string instanceId, string server);

    [LoggerMessage(212, LogLevel.Warning,
        "Could not deregister {AppName}/{InstanceId} from Eureka ({Outcome}: {Detail}); the lease expires on its own after about " +
        "eureka:instance:leaseExpirationDurationInSeconds x 2.", EventName = "EurekaDeregistrationFailed")]
    public static partial void DeregistrationFailed(this ILogger logger, string appName, string instanceId, EurekaCallOutcome outcome, string? detail);

    [LoggerMessage(213, LogLevel.Warning,
        "Eureka returned a response this client cannot read for {Operation} ({Error}: {Detail}). It is ignored; this is logged once.",
        EventName = "EurekaUnreadableResponse")]
    public static partial void UnreadableResponse(this ILogger logger, string operation, EurekaReadError error, string? detail);

    [LoggerMessage(214, LogLevel.Warning,
        "After registering {AppName}/{InstanceId} as UP, Eureka reports status {ServerStatus} with override {OverriddenStatus}: callers will not route here. " +
        "An operator (or an earlier instance with the same id) set an override; remove it with DELETE apps/{AppName}/{InstanceId}/status if that is not intended.",
        EventName = "EurekaNotUpAfterRegistration")]
    public static partial void NotUpAfterRegistration(this ILogger logger, string appName, string instanceId, string serverStatus, string overriddenStatus);

    [LoggerMessage(215, LogLevel.Debug, "Eureka {Operation} via {Server}: {Outcome} ({Detail}).", EventName = "EurekaCallAttempt")]
    public static partial void CallAttempt(this ILogger logger, string operation, string server, EurekaCallOutcome outcome, string? detail);

    [LoggerMessage(216, LogLevel.Information, "Eureka server {Server} did not answer; now using {NextServer}.", EventName = "EurekaFailedOver")]
    public static partial void FailedOver(this ILogger logger, string server, string nextServer);

    [LoggerMessage(217, LogLevel.Debug, "Eureka call failed again ({Operation}, {Outcome}: {Detail}); retrying in {RetryIn}.", EventName = "EurekaRetry")]
    public static partial void Retry(this ILogger logger, string operation, EurekaCallOutcome outcome, string? detail, TimeSpan retryIn);

    [LoggerMessage(218, LogLevel.Error, "The Eureka client loop failed unexpectedly; registration stops, the application keeps running.",
        EventName = "EurekaLoopFailed")]
    public static partial void LoopFailed(this ILogger logger, Exception exception);

    [LoggerMessage(219, LogLevel.Warning,
        "Could not tell which port the server listens on (addresses: {Addresses}); registering port {Port}. Set eureka:instance:port.",
        EventName = "EurekaPortUnknown")]
    public static partial void PortUnknown(this ILogger logger, string addresses, int port);

    [LoggerMessage(220, LogLevel.Information,
        "Eureka's cached view shows {AppName}/{InstanceId} {Status} on {ServerCount} server(s), {TurnoverSeconds:0.###} s after the OUT_OF_SERVICE override: " +
        "callers that fetch the registry every {FetchSeconds} s and cache it for {CacheSeconds} s will have let go by {LetGoBy:O}, which bounds the traffic wait.",
        EventName = "EurekaCachedViewOutOfService")]
    public static partial void CachedViewOutOfService(this ILogger logger, string appName, string instanceId, string status, int serverCount,
        double turnoverSeconds, int fetchSeconds, int cacheSeconds, DateTimeOffset letGoBy);

    [LoggerMessage(221, LogLevel.Information,
        "Eureka's cached view did not show {AppName}/{InstanceId} out of service ({Reason}); " +
        "the wait followed the arrivals and TrafficWait:Maximum.", EventName = "EurekaCachedViewNotSeen")]
    public static partial void CachedViewNotSeen(this ILogger logger, string appName, string instanceId, string reason);

    [LoggerMessage(222, LogLevel.Warning, "Reading Eureka's cached view failed unexpectedly; the traffic wait follows the arrivals and TrafficWait:Maximum.",
        EventName = "EurekaCachedViewFailed")]
    public static partial void CachedViewFailed(this ILogger logger, Exception exception);
}
