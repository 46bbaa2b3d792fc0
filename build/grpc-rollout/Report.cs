using System.Globalization;
using System.Text;

namespace GracefulShutdown.GrpcRollout;

/// <summary>The markdown table printed at the end and written next to the JSON.</summary>
internal static class Report
{
    public static string Markdown(List<RunResult> results, Settings s)
    {
        var b = new StringBuilder();
        b.AppendLine($"Rolling update: {s.Rounds} round(s) x {s.Replicas} replicas, SIGTERM (no preStop hook), endpoint removal L = {s.Lag.TotalSeconds:g} s after SIGTERM, " +
            $"grace {s.Grace.TotalSeconds:g} s; unary SayHello at {s.Rate} calls/s from {s.Workers} workers over one GrpcChannel (deadline 10 s). " +
            "haproxy = HAProxy 2.6 HTTP/2 (proto h2 both sides, retries 0); client = GrpcChannel round robin over the replicas' addresses. " +
            "Calls after drain = calls the terminated replica answered after its SIGTERM.");
        b.AppendLine();
        b.AppendLine("| Mode | Variant | Calls | Rate (calls/s) | Failed | Failed by status | p99 ms | SIGTERM → exit, s (exit code) | Calls after drain began (last one, s after SIGTERM) | Watch NOT_SERVING after SIGTERM | Stream end after SIGTERM |");
        b.AppendLine("|---|---|---:|---:|---:|---|---:|---|---|---|---|");
        foreach (RunResult r in results)
        {
            string exits = string.Join(", ", r.Terminations.Select(t => $"{t.ExitAfter:F1} ({t.ExitCode}{(t.Killed ? ", SIGKILL" : "")})"));
            string after = string.Join(", ", r.Terminations.Select(t => $"{t.CallsAfterDrainBegan} ({(t.LastCallAfter is { } l ? l.ToString("F2", CultureInfo.InvariantCulture) : "-")})"));
            Termination? probed = r.Terminations.FirstOrDefault(t => t.StreamStatus is not null || t.WatchNotServingMs is not null);
            string watch = probed?.WatchNotServingMs is { } w ? $"{w:F1} ms" : "-";
            string stream = probed?.StreamStatus is { } st ? $"{st} at {probed.StreamEndedAfter:F2} s (exit {probed.ExitAfter:F2} s)" : "-";
            string byStatus = r.FailuresByStatus.Count == 0 ? "-" : string.Join(", ", r.FailuresByStatus.Select(kv => $"{kv.Key}: {kv.Value}"));
            b.AppendLine(CultureInfo.InvariantCulture, $"| {r.Mode} | {r.Variant} | {r.Calls} | {r.Rate:F0} | {r.Failed} | {byStatus} | {r.P99Ms:F1} | {exits} | {after} | {watch} | {stream} |");
        }

        foreach (RunResult r in results.Where(r => r.FailureSamples.Length > 0))
        {
            b.AppendLine();
            b.AppendLine(CultureInfo.InvariantCulture, $"{r.Mode}/{r.Variant} first failures: {string.Join(" · ", r.FailureSamples)}");
        }

        return b.ToString().TrimEnd();
    }
}
