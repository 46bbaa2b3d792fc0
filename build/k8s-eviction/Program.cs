using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using GracefulShutdown.Kubernetes.Testing;

// An evicted pod, side by side: the sample with the Kubernetes add-on, without it, and with it while the API is unreachable.
// Each run: the pod runs with steady traffic (20 requests/s) and a 3 s request in flight; the eviction API sets
// deletionTimestamp = now + 8 s (deletionGracePeriodSeconds 8; the spec says 30) — the watch event races the signal, as in a
// cluster — kubelet sends SIGTERM at once (no preStop hook) and SIGKILL 8 s later; the balancer stops routing here 1 s after
// the deletion (kube-proxy's minimum sync period), or, second scenario, not before the kill (a slow cloud balancer).
// A measurement, not a test.
int rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 3;
string sample = typeof(Program).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "SampleDll").Value!;
var rows = new List<string>();
Console.WriteLine($"Evicted pod: deletionGracePeriodSeconds 8 (spec and GracefulShutdown:TerminationGracePeriod 30), a 3 s request in flight, 20 requests/s until the balancer lets go (1 s after the deletion, or not before the kill); SIGTERM at once, SIGKILL at 8 s. {rounds} round(s) per variant.");
foreach (TimeSpan? lag in new TimeSpan?[] { TimeSpan.FromSeconds(1), null })
{
    string balancer = lag is TimeSpan l ? $"lets go after {l.TotalSeconds:0} s" : "still routing at the kill";
    foreach (string variant in new[] { "with the add-on", "without the add-on", "add-on, API unreachable" })
    {
        for (int round = 1; round <= rounds; round++)
        {
            string row = await Eviction.RunAsync(sample, variant, lag);
            Console.WriteLine($"  balancer {balancer}, {variant,-24} round {round}: {row}");
            rows.Add($"| {balancer} | {variant} | {round} | {row.Replace("; ", " | ", StringComparison.Ordinal)} |");
        }
    }
}

Console.WriteLine();
Console.WriteLine("| balancer | variant | round | exit | 3 s request | steady requests | budget |");
Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- |");
rows.ForEach(Console.WriteLine);

internal static partial class Eviction
{
    private const string Namespace = "team";
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(8);

    public static async Task<string> RunAsync(string sampleDll, string variant, TimeSpan? lag)
    {
        string directory = Directory.CreateTempSubdirectory("k8s-eviction-").FullName;
        await using KubernetesApiStandIn api = await KubernetesApiStandIn.StartAsync();
        api.Apply(Pod(null));
        api.Apply(Slice());
        string kubeconfig = api.WriteKubeconfig(Path.Combine(directory, "kubeconfig"), Namespace);
        if (variant.Contains("unreachable", StringComparison.Ordinal))
        {
            api.Faults.Unreachable = true;
        }

        var start = new ProcessStartInfo("dotnet", [sampleDll, "--urls", "http://127.0.0.1:0"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(sampleDll)!,
        };
        start.Environment["POD_NAME"] = "web-1";
        start.Environment["POD_NAMESPACE"] = Namespace;
        start.Environment["KUBECONFIG"] = kubeconfig;
        start.Environment["KUBERNETES_SERVICE_HOST"] = "10.96.0.1"; // as in a pod: the library applies its in-cluster rules
        start.Environment["GracefulShutdown__PreStop__AllowLoopback"] = "true";
        start.Environment["Logging__LogLevel__Default"] = "Information";
        // "Request starting …/work?ms=3000": the 3 s request has reached the app before the eviction (no guessed delay).
        start.Environment["Logging__LogLevel__Microsoft.AspNetCore.Hosting.Diagnostics"] = "Information";
        if (variant == "without the add-on")
        {
            start.Environment["GracefulShutdown__Kubernetes__Enabled"] = "false";
        }

        using var process = Process.Start(start)!;
        var output = new List<string>();
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var report = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var slowArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnLine(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (output)
            {
                output.Add(line);
            }

            if (line.Contains("Request starting", StringComparison.Ordinal) && line.Contains("/work?ms=3000", StringComparison.Ordinal))
            {
                slowArrived.TrySetResult();
            }

            if (ListeningOn().Match(line) is { Success: true } m)
            {
                listening.TrySetResult(new Uri(m.Groups[1].Value));
            }
        }

        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            Uri address = await listening.Task.WaitAsync(TimeSpan.FromSeconds(30));
            using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
            await WaitReadyAsync(client);
            if (variant == "with the add-on")
            {
                using var watching = new CancellationTokenSource(TimeSpan.FromSeconds(20));
                await api.WaitForCallAsync(c => c.Verb == "watch" && c.Resource == "pods", watching.Token);
            }

            // Steady traffic (a balancer that still routes here), and the 3 s request.
            using var stopLoad = new CancellationTokenSource();
            int ok = 0, failed = 0;
            Task load = Task.Run(async () =>
            {
                using var loadClient = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(10) };
                var pending = new List<Task>();
                while (!stopLoad.IsCancellationRequested)
                {
                    pending.Add(Task.Run(async () =>
                    {
                        try
                        {
                            using HttpResponseMessage r = await loadClient.GetAsync("/work?ms=10");
                            Interlocked.Increment(ref r.IsSuccessStatusCode ? ref ok : ref failed);
                        }
                        catch (Exception)
                        {
                            Interlocked.Increment(ref failed);
                        }
                    }));
                    try
                    {
                        await Task.Delay(50, stopLoad.Token);
                    }
                    catch (OperationCanceledException)
                    {
                    }
                }

                await Task.WhenAll(pending);
            });
            await Task.Delay(1000);
            Task<string> slow = Task.Run(async () =>
            {
                try
                {
                    using HttpResponseMessage r = await client.GetAsync("/work?ms=3000");
                    return r.StatusCode == HttpStatusCode.OK ? "served (200)" : $"failed ({(int)r.StatusCode})";
                }
                catch (Exception ex)
                {
                    return "failed (" + ex.GetType().Name + ")";
                }
            });
            await slowArrived.Task.WaitAsync(TimeSpan.FromSeconds(10));

            // The eviction: deletionTimestamp = now + 8 s; kubelet: SIGTERM now, SIGKILL at the grace period.
            var sigterm = Stopwatch.StartNew();
            api.Apply(Pod(DateTimeOffset.UtcNow + Grace));
            _ = kill(process.Id, 15);
            if (lag is TimeSpan removal)
            {
                _ = Task.Delay(removal).ContinueWith(_ => stopLoad.Cancel(), TaskScheduler.Default);
            }
            bool exited = await WaitExitAsync(process, Grace);
            if (!exited)
            {
                process.Kill();
                await process.WaitForExitAsync();
            }

            double seconds = sigterm.Elapsed.TotalSeconds;
            await stopLoad.CancelAsync();
            await load;
            string slowResult = await slow;
            string budget;
            lock (output)
            {
                budget = output.FirstOrDefault(l => l.Contains("fitted budget", StringComparison.Ordinal)) is string fitted
                    ? "fitted: " + FittedWait().Match(fitted).Value
                    : "configured";
            }

            string exit = exited
                ? $"exit {process.ExitCode} after {seconds:F2} s"
                : $"SIGKILL at {seconds:F2} s (137)";
            return $"{exit}; {slowResult}; {ok} ok, {failed} failed; {budget}";
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }

            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task WaitReadyAsync(HttpClient client)
    {
        for (int i = 0; i < 300; i++)
        {
            try
            {
                using HttpResponseMessage r = await client.GetAsync("/health/ready");
                if (r.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(50);
        }

        throw new TimeoutException("the sample did not become ready");
    }

    private static async Task<bool> WaitExitAsync(Process process, TimeSpan within)
    {
        using var cts = new CancellationTokenSource(within);
        try
        {
            await process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static JsonObject Pod(DateTimeOffset? deletion)
    {
        var metadata = new JsonObject { ["name"] = "web-1", ["namespace"] = Namespace, ["labels"] = new JsonObject { ["app"] = "web" } };
        var conditions = new JsonArray { new JsonObject { ["type"] = "Ready", ["status"] = "True" } };
        if (deletion is DateTimeOffset at)
        {
            metadata["deletionTimestamp"] = at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
            metadata["deletionGracePeriodSeconds"] = 8;
            conditions.Add(new JsonObject { ["type"] = "DisruptionTarget", ["status"] = "True", ["reason"] = "EvictionByEvictionAPI", ["message"] = "Eviction API: evicting" });
        }

        return new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Pod",
            ["metadata"] = metadata,
            ["spec"] = new JsonObject { ["terminationGracePeriodSeconds"] = 30, ["containers"] = new JsonArray { new JsonObject { ["name"] = "app", ["image"] = "sample" } } },
            ["status"] = new JsonObject { ["phase"] = "Running", ["conditions"] = conditions },
        };
    }

    private static JsonObject Slice() => new()
    {
        ["apiVersion"] = "discovery.k8s.io/v1",
        ["kind"] = "EndpointSlice",
        ["metadata"] = new JsonObject { ["name"] = "web-abcde", ["namespace"] = Namespace, ["labels"] = new JsonObject { ["kubernetes.io/service-name"] = "web" } },
        ["addressType"] = "IPv4",
        ["endpoints"] = new JsonArray
        {
            Endpoint("web-1", "10.0.0.1"),
            Endpoint("web-2", "10.0.0.2"),
        },
    };

    private static JsonObject Endpoint(string pod, string ip) => new()
    {
        ["addresses"] = new JsonArray { ip },
        ["conditions"] = new JsonObject { ["ready"] = true, ["serving"] = true, ["terminating"] = false },
        ["targetRef"] = new JsonObject { ["kind"] = "Pod", ["namespace"] = Namespace, ["name"] = pod },
    };

    [GeneratedRegex(@"Now listening on: (http://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningOn();

    [GeneratedRegex(@"traffic wait ≤ [0-9.]+ s, drain [0-9.]+ s")]
    private static partial Regex FittedWait();

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int sig);
}
