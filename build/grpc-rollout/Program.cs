// Rolling update of the gRPC sample under unary load from the real Grpc.Net.Client, two ways:
//   haproxy: HAProxy in HTTP/2 mode (proto h2 on the frontend and to the replicas) is the Service: round robin, retries 0,
//            pooled backend connections; a replica's endpoint is removed L seconds after its termination begins.
//   client:  client-side round robin as behind a headless Service: one GrpcChannel balancing over the replicas' addresses,
//            which a resolver hands it like a DNS answer (the terminated replica's address leaves the answer after L).
// Each rolling update replaces every replica one by one (maxSurge 1, maxUnavailable 0): start a new replica, wait until its
// gRPC health says SERVING, add it, then terminate an old one the way kubelet does without a preStop hook: SIGTERM, SIGKILL at
// the grace period. With the library, the first replaced replica also has a health Watch and a StreamTicks stream open to it
// directly, to time the NOT_SERVING push and the stream's UNAVAILABLE against the process exit.
// Usage: build/grpc-rollout/run.sh [--short] [options]; see docs/grpc.md.
// This file is the entry point (run every mode and variant, print the table, exit code); the rest, one concern per file:
//   Settings.cs                                    the command line
//   HAProxyBalancer.cs, ClientSideBalancer.cs      the balancers (IBalancer.cs): HAProxy's config and runtime API, a resolver
//   Load.cs, CallRecord.cs                         the unary load and what each call recorded
//   Replica.cs, Kubelet.cs, Children.cs            replicas: started, ready, terminated like kubelet does; child processes
//   Rollout.cs                                     one rolling update of one mode and variant
//   Report.cs, RunResult.cs, Termination.cs        the markdown table and the results it is made of
//   Log.cs                                         progress lines
using System.Globalization;
using System.Text.Json;
using GracefulShutdown.GrpcRollout;

var settings = Settings.Parse(args);
Directory.CreateDirectory(settings.Out);
Log.Info($"gRPC rollout: modes {string.Join(',', settings.Modes)}, variants {string.Join(',', settings.Variants)}, {settings.Rounds} round(s) x " +
    $"{settings.Replicas} replicas, {settings.Rate} calls/s, L = {settings.Lag.TotalSeconds:g} s, grace {settings.Grace.TotalSeconds:g} s");

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

var results = new List<RunResult>();
int status = 0;
try
{
    foreach (string mode in settings.Modes)
    {
        foreach (string variant in settings.Variants)
        {
            RunResult result = await Rollout.RunAsync(mode, variant, settings, stop.Token);
            results.Add(result);
            Log.Info($"  -> {result.Calls} calls, {result.Rate:F0} calls/s, {result.Failed} failed");
        }
    }
}
catch (OperationCanceledException) when (stop.IsCancellationRequested)
{
    Log.Info("interrupted");
    status = 130;
}
finally
{
    Children.KillAll();
}

string table = Report.Markdown(results, settings);
string stamp = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
File.WriteAllText(Path.Combine(settings.Out, $"grpc-rollout-{stamp}.md"), table + "\n");
File.WriteAllText(Path.Combine(settings.Out, $"grpc-rollout-{stamp}.json"),
    JsonSerializer.Serialize(new { settings = settings.Describe(), results }, new JsonSerializerOptions { WriteIndented = true }));
Console.WriteLine();
Console.WriteLine(table);
Console.WriteLine();
Console.WriteLine($"JSON: {Path.Combine(settings.Out, $"grpc-rollout-{stamp}.json")}");
foreach (RunResult r in results.Where(r => r.Variant == "library"))
{
    if (r.Failed > 0)
    {
        Console.Error.WriteLine($"FAIL: library, {r.Mode}: {r.Failed} failed call(s); logs in {settings.Out}");
        status = status == 0 ? 1 : status;
    }

    if (r.Rate < 200)
    {
        Console.Error.WriteLine($"WARNING: library, {r.Mode} ran at {r.Rate:F0} calls/s (< 200)");
    }
}

return status;
