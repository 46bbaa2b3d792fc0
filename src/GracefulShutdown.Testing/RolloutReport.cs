using System.Globalization;
using System.Text;

namespace GracefulShutdown.Testing;

/// <summary>
/// The outcome of a simulated rolling update: every request of the load and every WebSocket connection, the failures by kind, and
/// what happened to each terminated replica. <see cref="ToString"/> is written for test output.
/// </summary>
public sealed class RolloutReport
{
    internal RolloutReport(RolloutOptions options, TimeSpan duration, long sent, long succeeded, long failed,
        IReadOnlyDictionary<string, long> failuresByKind, long webSocketConnections, long webSocketFailures,
        IReadOnlyDictionary<string, long> webSocketCloses, IReadOnlyList<ReplicaReport> terminated)
    {
        Options = options;
        Duration = duration;
        Sent = sent;
        Succeeded = succeeded;
        Failed = failed;
        FailuresByKind = failuresByKind;
        WebSocketConnections = webSocketConnections;
        WebSocketFailures = webSocketFailures;
        WebSocketCloses = webSocketCloses;
        Terminated = terminated;
    }

    /// <summary>Gets how many HTTP requests the load sent (or was due to send).</summary>
    public long Sent { get; }

    /// <summary>Gets how many HTTP requests got a complete response with a status below 400.</summary>
    public long Succeeded { get; }

    /// <summary>Gets how many HTTP requests failed: a status of 400 or above, a transport error, a timeout, or not sent because too many were in flight.</summary>
    public long Failed { get; }

    /// <summary>
    /// Gets the failures by kind, HTTP and WebSocket: <c>HTTP 502 (balancer: Request)</c>, <c>transport: ResponseEnded</c>,
    /// <c>timeout</c>, <c>WebSocket close 1011</c>, <c>WebSocket aborted</c>, <c>WebSocket connect: …</c>.
    /// </summary>
    public IReadOnlyDictionary<string, long> FailuresByKind { get; }

    /// <summary>Gets how many WebSocket connections the clients opened.</summary>
    public long WebSocketConnections { get; }

    /// <summary>Gets how many WebSocket connections failed to open or ended other than with a 1000 or 1001 close.</summary>
    public long WebSocketFailures { get; }

    /// <summary>Gets how the WebSocket connections ended during the rollout, by kind (<c>close 1001</c>, <c>aborted</c>…), clean or not.</summary>
    public IReadOnlyDictionary<string, long> WebSocketCloses { get; }

    /// <summary>Gets the replicas the rollout terminated, in termination order.</summary>
    public IReadOnlyList<ReplicaReport> Terminated { get; }

    /// <summary>Gets how long the whole rollout took, from the first replica's start to the end of the load.</summary>
    public TimeSpan Duration { get; }

    /// <summary>Gets a value indicating whether nothing failed: no failed request and no WebSocket failure.</summary>
    public bool IsZeroDowntime => Failed == 0 && WebSocketFailures == 0;

    /// <summary>Gets the options the rollout ran with.</summary>
    public RolloutOptions Options { get; }

    /// <inheritdoc/>
    public override string ToString()
    {
        var text = new StringBuilder();
        CultureInfo c = CultureInfo.InvariantCulture;
        string model = Options.Balancer == RolloutBalancer.RemovalLag
            ? $"removal lag {ReplicaReport.Seconds(Options.RemovalLag)}"
            : $"health-checked every {ReplicaReport.Seconds(Options.HealthCheckInterval)}, threshold {Options.HealthCheckThreshold}";
        text.Append(c, $"Rollout: {Options.Replicas} replicas x {Options.Rounds} round(s), {model}, {Options.RequestsPerSecond:0.#} req/s, {ReplicaReport.Seconds(Duration)}")
            .AppendLine()
            .Append(c, $"  {(IsZeroDowntime ? "ZERO DOWNTIME" : "FAILURES")}: sent {Sent}, succeeded {Succeeded}, failed {Failed} ({Percent(Failed, Sent)})");
        if (Options.WebSocketClients > 0)
        {
            text.Append(c, $"; WebSocket connections {WebSocketConnections}, failed {WebSocketFailures}");
        }

        text.AppendLine();
        foreach (KeyValuePair<string, long> kind in FailuresByKind.OrderByDescending(k => k.Value).ThenBy(k => k.Key, StringComparer.Ordinal))
        {
            text.Append(c, $"    {kind.Value,7}  {kind.Key}").AppendLine();
        }

        if (WebSocketCloses.Count > 0)
        {
            text.Append("  WebSocket ends: ")
                .AppendJoin(", ", WebSocketCloses.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => $"{k.Key} x{k.Value}"))
                .AppendLine();
        }

        foreach (ReplicaReport replica in Terminated)
        {
            text.Append("  ").Append(replica).AppendLine();
        }

        return text.ToString().TrimEnd();
    }

    private static string Percent(long part, long whole) =>
        whole == 0 ? "0 %" : (100.0 * part / whole).ToString("0.##", CultureInfo.InvariantCulture) + " %";
}
