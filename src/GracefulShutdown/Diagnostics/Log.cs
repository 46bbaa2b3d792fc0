using GracefulShutdown.Lifecycle;
using Microsoft.Extensions.Logging;

namespace GracefulShutdown.Diagnostics;

/// <summary>
/// Every log line of the library. Event ids are a public contract (dashboards and alerts key on them):
/// 1–99 start-up, 100–199 drain (120–139 long-lived connections and work in progress), 200–299 Eureka, 300–399 endpoints, 400–449 gRPC, 450–499 RabbitMQ, 500–549 Kubernetes.
/// Never renumber; EventName is explicit so renames do not change it.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information,
        "Graceful shutdown configured: traffic wait {Minimum}–{Maximum} (quiet period {QuietPeriod}), drain timeout {DrainTimeout}, " +
        "stop margin {StopMargin}; HostOptions.ShutdownTimeout {ShutdownTimeout} within terminationGracePeriod {TerminationGracePeriod}.",
        EventName = "Configured")]
    public static partial void Configured(this ILogger logger, TimeSpan minimum, TimeSpan maximum, TimeSpan quietPeriod, TimeSpan drainTimeout,
        TimeSpan stopMargin, TimeSpan shutdownTimeout, TimeSpan terminationGracePeriod);

    [LoggerMessage(EventId = 2, EventName = "PreStopLoopbackOnly",
        Message = "The preStop endpoint {PreStopPath} {Access}. kubelet calls it from the node: set " +
        "GracefulShutdown:ManagementPort (a port the Service does not expose, also listed in the server URLs) or " +
        "GracefulShutdown:PreStop:Token (sent from the manifest's httpGet.httpHeaders); " +
        "GracefulShutdown:PreStop:AllowLoopback=true admits loopback callers (exec hooks in images without a same-pod proxy).")]
    public static partial void PreStopLoopbackOnly(this ILogger logger, LogLevel level, string preStopPath, string access);

    [LoggerMessage(3, LogLevel.Debug, "Start-up gate '{GateName}' completed.", EventName = "StartupGateCompleted")]
    public static partial void StartupGateCompleted(this ILogger logger, string gateName);

    [LoggerMessage(4, LogLevel.Error, "Start-up gate '{GateName}' failed; the application stays unready.", EventName = "StartupGateFailed")]
    public static partial void StartupGateFailed(this ILogger logger, string gateName, Exception exception);

    [LoggerMessage(5, LogLevel.Information, "Application is ready ({GateCount} start-up gates completed).", EventName = "Ready")]
    public static partial void Ready(this ILogger logger, int gateCount);

    [LoggerMessage(6, LogLevel.Warning,
        "{Signal} received while the application was starting; it stops as soon as the host has started, without serving. " +
        "A second signal terminates at once.", EventName = "SignalDuringStartup")]
    public static partial void SignalDuringStartup(this ILogger logger, string signal);

    [LoggerMessage(7, LogLevel.Warning,
        "GracefulShutdown:ManagementPort is {ManagementPort} but the server does not listen on it ({Addresses}); the probe and preStop endpoints are unreachable. " +
        "Add the port to the server URLs, e.g. ASPNETCORE_HTTP_PORTS=8080;{ManagementPort}.", EventName = "ManagementPortNotBound")]
    public static partial void ManagementPortNotBound(this ILogger logger, int managementPort, string addresses);

    [LoggerMessage(8, LogLevel.Debug, "Warm-up request GET {Path} answered {StatusCode} in {ElapsedMilliseconds:0.0} ms.",
        EventName = "WarmupRequestCompleted")]
    public static partial void WarmupRequestCompleted(this ILogger logger, string path, int statusCode, double elapsedMilliseconds);

    [LoggerMessage(9, LogLevel.Warning, "Warm-up request GET {Path} failed ({Reason}); the app becomes ready anyway.",
        EventName = "WarmupRequestFailed")]
    public static partial void WarmupRequestFailed(this ILogger logger, string path, string reason);

    [LoggerMessage(10, LogLevel.Warning, "No http(s) address to send warm-up requests to ({Addresses}); skipped.", EventName = "WarmupSkipped")]
    public static partial void WarmupSkipped(this ILogger logger, string addresses);

    [LoggerMessage(20, LogLevel.Warning,
        "The sidecar keeps serving {SidecarDrainDuration} after SIGTERM ({Source}), but the drain after SIGTERM takes up to " +
        "GracefulShutdown:DrainTimeout ({DrainTimeout}) + GracefulShutdown:StopMargin ({StopMargin}), plus the traffic wait when no preStop " +
        "hook runs first: responses and stop-time calls after it would fail. Use a native sidecar (Kubernetes 1.29+), raise the sidecar's " +
        "drain time (Istio: terminationDrainDuration, or EXIT_ON_ZERO_ACTIVE_CONNECTIONS), and set GracefulShutdown:Sidecar:DrainDuration to it.",
        EventName = "SidecarDrainShorterThanDrain")]
    public static partial void SidecarDrainShorterThanDrain(this ILogger logger, TimeSpan sidecarDrainDuration, string source, TimeSpan drainTimeout,
        TimeSpan stopMargin);

    [LoggerMessage(21, LogLevel.Information, "Sidecar ready: {ReadyUrl} answered {StatusCode} after {ElapsedSeconds:0.000} s.",
        EventName = "SidecarReady")]
    public static partial void SidecarReady(this ILogger logger, Uri readyUrl, int statusCode, double elapsedSeconds);

    [LoggerMessage(100, LogLevel.Information,
        "Drain started by {Trigger}: readiness answers 503 and the application keeps serving; {InFlight} requests in flight.{Reason}",
        EventName = "DrainStarted")]
    public static partial void DrainStarted(this ILogger logger, DrainTrigger trigger, long inFlight, string reason);

    [LoggerMessage(101, LogLevel.Information, "{Signal} received again: skipping the rest of the traffic wait.", EventName = "SecondSignal")]
    public static partial void SecondSignal(this ILogger logger, string signal);

    [LoggerMessage(102, LogLevel.Information,
        "Traffic wait ended ({Outcome}) after {ElapsedSeconds:0.000} s; {RequestCount} requests arrived during the wait. " +
        "Arrival rate ≥ {LowerRate:0.###}/s (95 % lower bound from {RateRequests} requests in {RateSeconds:0.###} s; " +
        "{RecentRequests} requests in the {RecentSeconds:0.#} s before the drain); conclusive silence: {ConclusiveSilence}.",
        EventName = "TrafficWaitEnded")]
    public static partial void TrafficWaitEnded(this ILogger logger, TrafficWaitOutcome outcome, double elapsedSeconds, long requestCount,
        double lowerRate, string conclusiveSilence, long recentRequests, double recentSeconds, long rateRequests, double rateSeconds);

    [LoggerMessage(103, LogLevel.Information,
        "Stopping the server: new connections are refused; {InFlight} requests in flight have {DrainTimeout} to finish.",
        EventName = "ServerDrainStarted")]
    public static partial void ServerDrainStarted(this ILogger logger, long inFlight, TimeSpan drainTimeout);

    [LoggerMessage(104, LogLevel.Information, "Server stopped after {ElapsedSeconds:0.000} s; every in-flight request completed.",
        EventName = "ServerDrainCompleted")]
    public static partial void ServerDrainCompleted(this ILogger logger, double elapsedSeconds);

    [LoggerMessage(105, LogLevel.Warning,
        "Drain timeout {DrainTimeout} reached: {InFlight} requests still in flight were aborted.", EventName = "DrainTimeoutReached")]
    public static partial void DrainTimeoutReached(this ILogger logger, TimeSpan drainTimeout, long inFlight);

    [LoggerMessage(106, LogLevel.Information,
        "Shutdown sequence complete {ElapsedSeconds:0.000} s after the drain began ({Trigger}); the process exits next.",
        EventName = "ShutdownComplete")]
    public static partial void ShutdownComplete(this ILogger logger, double elapsedSeconds, DrainTrigger trigger);

    [LoggerMessage(107, LogLevel.Warning,
        "Requests were still arriving {SinceLastRequestSeconds:0.000} s before the traffic wait's maximum ({Maximum}) ran out; " +
        "raise GracefulShutdown:TrafficWait:Maximum above your load balancers' propagation time.", EventName = "TrafficWaitMaximumReached")]
    public static partial void TrafficWaitMaximumReached(this ILogger logger, double sinceLastRequestSeconds, TimeSpan maximum);

    [LoggerMessage(108, LogLevel.Information, "Callers during the traffic wait ({CallerCount}): {Callers}.", EventName = "LateCallers")]
    public static partial void LateCallers(this ILogger logger, int callerCount, string callers);

    [LoggerMessage(109, LogLevel.Information,
        "Shutdown report: drain started by {Trigger} at {DrainStartedAt:O}; traffic wait {WaitOutcome} after {WaitSeconds:0.000} s " +
        "(rate ≥ {LowerRate:0.###}/s, conclusive silence {ConclusiveSilence}, last request {LastArrival}); " +
        "server drain {ServerDrainSeconds:0.000} s with {InFlight} in flight, {Aborted} aborted; deadline: {Deadline}. Timeline: {Timeline}.",
        EventName = "ShutdownReport")]
    public static partial void ShutdownReport(this ILogger logger, string trigger, DateTimeOffset drainStartedAt, string waitOutcome, double waitSeconds,
        double lowerRate, string conclusiveSilence, string lastArrival, long inFlight, double serverDrainSeconds, long aborted,
        string deadline, string timeline);

    [LoggerMessage(110, LogLevel.Information,
        "Health checker {UserAgent} from {Source} ({Profile}: unhealthy threshold {UnhealthyThreshold}, apply lag {ApplyLagSeconds:0.###} s, " +
        "period {Period}): {ProbeCount} probes after the drain began, {ConsecutiveFailures} consecutive failures, last probe {LastProbe}; {Verdict}.",
        EventName = "HealthChecker")]
    public static partial void HealthChecker(this ILogger logger, string userAgent, string source, string profile, int unhealthyThreshold,
        double applyLagSeconds, string period, int probeCount, int consecutiveFailures, string lastProbe, string verdict);

    [LoggerMessage(111, LogLevel.Warning,
        "Health checker {UserAgent} from {Source} had not let go when GracefulShutdown:TrafficWait:Maximum ({Maximum}) ran out: " +
        "{ConsecutiveFailures} of {UnhealthyThreshold} failures seen; its profile ({Profile}) needs about {NeedsSeconds:0.#} s " +
        "(threshold × period + apply lag). Raise GracefulShutdown:TrafficWait:Maximum (and the grace period with it) above that, or set " +
        "its real values under GracefulShutdown:HealthCheckers:Profiles.", EventName = "HealthCheckerHeldToMaximum")]
    public static partial void HealthCheckerHeldToMaximum(this ILogger logger, string userAgent, string source, TimeSpan maximum,
        int consecutiveFailures, int unhealthyThreshold, string profile, double needsSeconds);

    [LoggerMessage(115, LogLevel.Warning,
        "No SIGTERM followed the drain that the preStop hook began {ElapsedSeconds:0.000} s ago (GracefulShutdown:TerminationGracePeriod " +
        "{TerminationGracePeriod} + GracefulShutdown:PreStop:SigTermMargin {SigTermMargin}): kubelet would have killed the pod by now, so " +
        "the call was not part of a termination. Stopping the application rather than staying out of rotation.",
        EventName = "PreStopNotFollowedBySigTerm")]
    public static partial void PreStopNotFollowedBySigTerm(this ILogger logger, double elapsedSeconds, TimeSpan terminationGracePeriod,
        TimeSpan sigTermMargin);

    [LoggerMessage(120, LogLevel.Information,
        "Closing {Count} WebSockets with 1001 (going away) over {CloseWindow}; {OptedOut} are left to their endpoints.",
        EventName = "ClosingWebSockets")]
    public static partial void ClosingWebSockets(this ILogger logger, int count, int optedOut, TimeSpan closeWindow);

    [LoggerMessage(121, LogLevel.Information, "{Count} WebSockets closed cleanly; the close took {ElapsedSeconds:0.000} s.",
        EventName = "WebSocketsClosed")]
    public static partial void WebSocketsClosed(this ILogger logger, int count, double elapsedSeconds);

    [LoggerMessage(122, LogLevel.Warning,
        "{Count} WebSockets had not finished their closing handshake {CloseTimeout} after the close began (GracefulShutdown:Connections:CloseTimeout); aborted.",
        EventName = "WebSocketsAborted")]
    public static partial void WebSocketsAborted(this ILogger logger, int count, TimeSpan closeTimeout);

    [LoggerMessage(123, LogLevel.Debug, "Closing a WebSocket failed: {Reason}.", EventName = "WebSocketCloseFailed")]
    public static partial void WebSocketCloseFailed(this ILogger logger, string reason);

    [LoggerMessage(124, LogLevel.Information, "Traffic wait over and long-lived connections closed: {Next}.", EventName = "StoppingHost")]
    public static partial void StoppingHost(this ILogger logger, string next);

    [LoggerMessage(125, LogLevel.Information, "Waiting for work in progress to finish: {Work}.", EventName = "WaitingForWork")]
    public static partial void WaitingForWork(this ILogger logger, string work);

    [LoggerMessage(126, LogLevel.Warning, "Work still running at the drain deadline: {Work}. The host stops without waiting for it.",
        EventName = "WorkOutstanding")]
    public static partial void WorkOutstanding(this ILogger logger, string work);

    [LoggerMessage(127, LogLevel.Error, "Drain step {Participant} failed; the stop goes on without it.", EventName = "DrainParticipantFailed")]
    public static partial void DrainParticipantFailed(this ILogger logger, string participant, Exception exception);

    [LoggerMessage(130, LogLevel.Information, "Platform deadline from {Source}: the process is killed at {KillAt:O}, {InSeconds:0.000} s from now.",
        EventName = "PlatformDeadline")]
    public static partial void PlatformDeadline(this ILogger logger, string source, DateTimeOffset killAt, double inSeconds);

    [LoggerMessage(131, LogLevel.Information, "Termination reason from the platform: {Reason}.", EventName = "PlatformReason")]
    public static partial void PlatformReason(this ILogger logger, string reason);

    [LoggerMessage(132, LogLevel.Information, "The traffic wait is skipped: {Why}.", EventName = "PlatformSkipsTrafficWait")]
    public static partial void PlatformSkipsTrafficWait(this ILogger logger, string why);

    [LoggerMessage(133, LogLevel.Information, "Readiness held while draining: {Why}.", EventName = "ReadinessHeld")]
    public static partial void ReadinessHeld(this ILogger logger, string why);

    [LoggerMessage(134, LogLevel.Information, "Readiness hold released: {Why}.", EventName = "ReadinessReleased")]
    public static partial void ReadinessReleased(this ILogger logger, string why);

    [LoggerMessage(135, LogLevel.Warning,
        "The platform's deadline ({Source}) leaves {GraceSeconds:0.000} s from the drain's start, less than TerminationGracePeriod " +
        "({Configured}): the shutdown runs on a fitted budget — traffic wait ≤ {WaitSeconds:0.000} s, drain {DrainSeconds:0.000} s " +
        "(close window {CloseSeconds:0.000} s), stop work {StopSeconds:0.000} s.", EventName = "BudgetFitted")]
    public static partial void BudgetFitted(this ILogger logger, string source, double graceSeconds, TimeSpan configured, double waitSeconds,
        double drainSeconds, double closeSeconds, double stopSeconds);

    [LoggerMessage(300, LogLevel.Information, "preStop hook called by {RemoteAddress} ({UserAgent}).", EventName = "PreStopReceived")]
    public static partial void PreStopReceived(this ILogger logger, string remoteAddress, string userAgent);

    [LoggerMessage(301, LogLevel.Warning, "preStop hook refused for {RemoteAddress}: {Reason}. Nothing changed.", EventName = "PreStopRefused")]
    public static partial void PreStopRefused(this ILogger logger, string remoteAddress, string reason);

    [LoggerMessage(302, LogLevel.Warning, "preStop hook rejected a malformed request from {RemoteAddress}: {Reason}. Nothing changed.",
        EventName = "PreStopMalformed")]
    public static partial void PreStopMalformed(this ILogger logger, string remoteAddress, string reason);

    [LoggerMessage(303, LogLevel.Information,
        "No web server in this host: it serves no traffic, so the drain has no traffic wait; {Endpoints}.", EventName = "NoWebServer")]
    public static partial void NoWebServer(this ILogger logger, string endpoints);

    [LoggerMessage(304, LogLevel.Debug, "TCP {Probe} port {Port} is {State}.", EventName = "TcpProbePortChanged")]
    public static partial void TcpProbePortChanged(this ILogger logger, GracefulShutdownProbe probe, int port, string state);

    [LoggerMessage(305, LogLevel.Warning, "TCP {Probe} port {Port} could not listen; retrying at the next evaluation.",
        EventName = "TcpProbePortFailed")]
    public static partial void TcpProbePortFailed(this ILogger logger, GracefulShutdownProbe probe, int port, Exception exception);
}
