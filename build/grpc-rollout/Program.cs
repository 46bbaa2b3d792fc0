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
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using GracefulShutdown.GrpcRollout;
using GracefulShutdown.GrpcSample;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;
using Microsoft.Extensions.DependencyInjection;

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

namespace GracefulShutdown.GrpcRollout
{
    internal sealed class Settings
    {
        public string[] Modes { get; private set; } = ["haproxy", "client"];
        public string[] Variants { get; private set; } = ["plain", "library"];
        public int Rounds { get; private set; } = 2;
        public int Replicas { get; private set; } = 2;
        public int Rate { get; private set; } = 400;
        public int Workers { get; private set; } = 16;
        public TimeSpan Lag { get; private set; } = TimeSpan.FromSeconds(1);
        public TimeSpan Grace { get; private set; } = TimeSpan.FromSeconds(30);
        public TimeSpan Settle { get; private set; } = TimeSpan.FromSeconds(2);
        public TimeSpan ReadyTimeout { get; private set; } = TimeSpan.FromSeconds(60);
        public bool Probes { get; private set; } = true;
        public bool Short { get; private set; }
        public List<string> AppArgs { get; } = [];
        public string Dll { get; private set; } = typeof(Settings).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "SampleDll").Value!;
        public string Out { get; private set; } = Path.Combine(FindRepo(), "artifacts", "grpc-rollout");

        public static Settings Parse(string[] args)
        {
            var s = new Settings();

            // --key=value is the same as --key value.
            args = [.. args.SelectMany(static a => a.StartsWith("--", StringComparison.Ordinal) && a.IndexOf('=', StringComparison.Ordinal) is > 2 and int eq
                ? new[] { a[..eq], a[(eq + 1)..] }
                : [a])];
            for (int i = 0; i < args.Length; i++)
            {
                string a = args[i];
                string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{a} needs a value");
                switch (a)
                {
                    case "--short":
                        // CI: library only, one round, both modes; exits 1 on any failed call.
                        s.Short = true;
                        s.Variants = ["library"];
                        s.Rounds = 1;
                        s.Settle = TimeSpan.FromSeconds(1.5);
                        break;
                    case "--modes": s.Modes = Next().Split(',', StringSplitOptions.RemoveEmptyEntries); break;
                    case "--variants": s.Variants = Next().Split(',', StringSplitOptions.RemoveEmptyEntries); break;
                    case "--rounds": s.Rounds = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--replicas": s.Replicas = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--rate": s.Rate = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--workers": s.Workers = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--lag": s.Lag = TimeSpan.FromSeconds(double.Parse(Next(), CultureInfo.InvariantCulture)); break;
                    case "--grace": s.Grace = TimeSpan.FromSeconds(double.Parse(Next(), CultureInfo.InvariantCulture)); break;
                    case "--settle": s.Settle = TimeSpan.FromSeconds(double.Parse(Next(), CultureInfo.InvariantCulture)); break;
                    case "--no-probes": s.Probes = false; break;
                    case "--app-arg": s.AppArgs.Add(Next()); break;
                    case "--dll": s.Dll = Next(); break;
                    case "--out": s.Out = Next(); break;
                    default: throw new ArgumentException($"unknown option {a}");
                }
            }

            foreach (string m in s.Modes)
            {
                if (m is not ("haproxy" or "client"))
                {
                    throw new ArgumentException($"--modes: '{m}' is not haproxy or client");
                }
            }

            foreach (string v in s.Variants)
            {
                if (v is not ("plain" or "library"))
                {
                    throw new ArgumentException($"--variants: '{v}' is not plain or library");
                }
            }

            return s;
        }

        public object Describe() => new
        {
            Modes,
            Variants,
            Rounds,
            Replicas,
            Rate,
            Workers,
            LagSeconds = Lag.TotalSeconds,
            GraceSeconds = Grace.TotalSeconds,
            SettleSeconds = Settle.TotalSeconds,
            Probes,
            AppArgs,
            Machine = $"{Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}",
        };

        private static string FindRepo()
        {
            string? dir = AppContext.BaseDirectory;
            while (dir is not null && !File.Exists(Path.Combine(dir, "GracefulShutdown.sln")))
            {
                dir = Path.GetDirectoryName(dir);
            }

            return dir ?? Directory.GetCurrentDirectory();
        }
    }

    internal static class Log
    {
        private static readonly long Start = Stopwatch.GetTimestamp();

        public static double Now => Stopwatch.GetElapsedTime(Start).TotalSeconds;

        public static void Info(string message) => Console.WriteLine($"[{Now,7:F2}s] {message}");
    }

    /// <summary>Every child process, killed when the harness ends.</summary>
    internal static partial class Children
    {
        private static readonly ConcurrentBag<Process> All = [];

        public static Process Start(string file, IEnumerable<string> arguments, string logFile, string? workingDirectory = null)
        {
            var start = new ProcessStartInfo(file)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = workingDirectory ?? Directory.GetCurrentDirectory(),
            };
            foreach (string a in arguments)
            {
                start.ArgumentList.Add(a);
            }

            start.Environment.Remove("KUBERNETES_SERVICE_HOST");
            start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
            start.Environment["DOTNET_NOLOGO"] = "1";
            var log = new StreamWriter(logFile, append: true) { AutoFlush = true };
            var process = new Process { StartInfo = start, EnableRaisingEvents = true };
            var gate = new Lock();
            void Write(string? line)
            {
                if (line is not null)
                {
                    lock (gate)
                    {
                        log.WriteLine(line);
                    }
                }
            }

            process.OutputDataReceived += (_, e) => Write(e.Data);
            process.ErrorDataReceived += (_, e) => Write(e.Data);
            process.Exited += (_, _) =>
            {
                process.WaitForExit();
                lock (gate)
                {
                    log.Dispose();
                }
            };
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            All.Add(process);
            return process;
        }

        public static void Signal(Process process, int signal)
        {
            if (!process.HasExited)
            {
                _ = kill(process.Id, signal);
            }
        }

        public static void KillAll()
        {
            foreach (Process p in All)
            {
                try
                {
                    if (!p.HasExited)
                    {
                        p.Kill(entireProcessTree: true);
                        p.WaitForExit(5000);
                    }
                }
                catch (InvalidOperationException)
                {
                }
            }
        }

        [LibraryImport("libc", SetLastError = true)]
        private static partial int kill(int pid, int sig);
    }

    internal sealed class Replica
    {
        public const int SIGKILL = 9;
        public const int SIGTERM = 15;

        private Replica(string name, int port, Process process)
        {
            Name = name;
            Port = port;
            Process = process;
        }

        public string Name { get; }
        public int Port { get; }
        public Process Process { get; }
        public Uri Address => new($"http://127.0.0.1:{Port}");
        public double StartedAt { get; private set; }
        public double ReadyAfter { get; private set; }

        private bool _library;

        public static Replica Start(string name, string variant, Settings settings, string label)
        {
            int port = FreePort();
            var arguments = new List<string> { settings.Dll, "--urls", $"http://127.0.0.1:{port}" };
            if (variant == "plain")
            {
                arguments.Add("--Sample:UseLibrary=false");
            }

            arguments.AddRange(settings.AppArgs);
            // The sample's directory is its content root: its appsettings.json makes the --urls endpoint h2c (HTTP/2 only).
            Process process = Children.Start("dotnet", arguments, Path.Combine(settings.Out, $"{label}-{name}.log"), Path.GetDirectoryName(settings.Dll));
            return new Replica(name, port, process) { StartedAt = Log.Now, _library = variant == "library" };
        }

        /// <summary>
        /// Waits until the replica's gRPC health says SERVING for "" (what a readiness probe would see). The plain sample has no
        /// health checks, and its standard health service answers UNKNOWN for "": answering at all is its readiness.
        /// </summary>
        public async Task WaitReadyAsync(TimeSpan timeout, CancellationToken cancellationToken)
        {
            using GrpcChannel channel = GrpcChannel.ForAddress(Address);
            var health = new Health.HealthClient(channel);
            long until = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
            while (Stopwatch.GetTimestamp() < until)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (Process.HasExited)
                {
                    throw new InvalidOperationException($"replica {Name} exited with {Process.ExitCode}");
                }

                try
                {
                    HealthCheckResponse r = await health.CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(1),
                        cancellationToken: cancellationToken);
                    if (r.Status == HealthCheckResponse.Types.ServingStatus.Serving || !_library)
                    {
                        ReadyAfter = Log.Now - StartedAt;
                        return;
                    }
                }
                catch (RpcException)
                {
                }

                await Task.Delay(100, cancellationToken);
            }

            throw new TimeoutException($"replica {Name} not SERVING after {timeout}");
        }

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
    }

    /// <summary>Where the load goes and how a replica enters and leaves rotation.</summary>
    internal interface IBalancer : IAsyncDisposable
    {
        GrpcChannel CreateChannel();

        Task AddAsync(Replica replica);

        /// <summary>Endpoint removal: no new call goes to the replica; calls in flight finish.</summary>
        Task RemoveAsync(Replica replica);
    }

    internal sealed class HAProxyBalancer : IBalancer
    {
        private readonly string _socket;
        private readonly Process _process;
        private readonly int _port;

        private HAProxyBalancer(string socket, Process process, int port)
        {
            _socket = socket;
            _process = process;
            _port = port;
        }

        public static async Task<HAProxyBalancer> StartAsync(Settings settings, string label)
        {
            int port;
            using (var l = new TcpListener(IPAddress.Loopback, 0))
            {
                l.Start();
                port = ((IPEndPoint)l.LocalEndpoint).Port;
            }

            string socket = Path.Combine(settings.Out, $"{label}-haproxy.sock");
            string config = Path.Combine(settings.Out, $"{label}-haproxy.cfg");
            File.Delete(socket);
            await File.WriteAllTextAsync(config, Config(socket, port, label));
            Process process = Children.Start("haproxy", ["-db", "-f", config], Path.Combine(settings.Out, $"{label}-haproxy.log"));
            var balancer = new HAProxyBalancer(socket, process, port);
            for (int i = 0; i < 100; i++)
            {
                if (process.HasExited)
                {
                    throw new InvalidOperationException($"haproxy exited; see {label}-haproxy.log");
                }

                try
                {
                    await balancer.CommandAsync("show info");
                    return balancer;
                }
                catch (SocketException)
                {
                    await Task.Delay(50);
                }
            }

            throw new TimeoutException("haproxy did not open its admin socket");
        }

        /// <summary>
        /// HTTP/2 end to end: the frontend speaks h2c to the client, the backend h2c to the replicas over pooled connections
        /// shared by all client streams. Like kube-proxy, a failed call reaches the client: no retry, no redispatch.
        /// </summary>
        public static string Config(string socket, int port, string label) => $"""
            # generated by build/grpc-rollout ({label})
            global
                stats socket {socket} mode 600 level admin
                maxconn 4096
                log stdout format raw local0 info

            defaults
                mode http
                log global
                option httplog
                # Only errors are logged: the evidence for any lost call.
                option dontlog-normal
                timeout connect 2s
                timeout client 60s
                timeout server 60s
                retries 0
                no option redispatch

            frontend fe
                bind 127.0.0.1:{port} proto h2
                default_backend be

            backend be
                balance roundrobin
                http-reuse always

            """;

        public GrpcChannel CreateChannel() => GrpcChannel.ForAddress($"http://127.0.0.1:{_port}",
            new GrpcChannelOptions { HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true } });

        public async Task AddAsync(Replica replica)
        {
            string r = await CommandAsync($"add server be/{replica.Name} 127.0.0.1:{replica.Port} proto h2");
            if (!r.Contains("New server registered", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"add server: {r}");
            }

            await CommandAsync($"enable server be/{replica.Name}");
        }

        public async Task RemoveAsync(Replica replica)
        {
            await CommandAsync($"set server be/{replica.Name} state maint");

            // Deleting waits for the connections to the server to close; the endpoint is out of rotation already.
            _ = Task.Run(async () =>
            {
                for (int i = 0; i < 150; i++)
                {
                    if ((await CommandAsync($"del server be/{replica.Name}")).Contains("deleted", StringComparison.OrdinalIgnoreCase))
                    {
                        return;
                    }

                    await Task.Delay(200);
                }
            });
        }

        public async Task<string> CommandAsync(string line)
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(_socket));
            await socket.SendAsync(Encoding.ASCII.GetBytes(line + "\n"));
            var output = new StringBuilder();
            var buffer = new byte[65536];
            int n;
            while ((n = await socket.ReceiveAsync(buffer)) > 0)
            {
                output.Append(Encoding.ASCII.GetString(buffer, 0, n));
            }

            return output.ToString().Trim();
        }

        public ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(5000);
            }

            return ValueTask.CompletedTask;
        }
    }

    /// <summary>
    /// Client-side round robin as behind a headless Service: the channel balances over the addresses its resolver reports,
    /// which the harness updates like a DNS answer (a replica joins when ready, leaves L seconds after its termination began).
    /// </summary>
    internal sealed class ClientSideBalancer : IBalancer
    {
        private readonly HeadlessServiceResolverFactory _factory = new();

        public GrpcChannel CreateChannel()
        {
            var services = new ServiceCollection();
            services.AddSingleton<ResolverFactory>(_factory);
            return GrpcChannel.ForAddress("headless:///greeter", new GrpcChannelOptions
            {
                Credentials = ChannelCredentials.Insecure,
                ServiceConfig = new ServiceConfig { LoadBalancingConfigs = { new RoundRobinConfig() } },
                ServiceProvider = services.BuildServiceProvider(),
            });
        }

        public Task AddAsync(Replica replica)
        {
            _factory.Add(replica.Port);
            return Task.CompletedTask;
        }

        public Task RemoveAsync(Replica replica)
        {
            _factory.Remove(replica.Port);
            return Task.CompletedTask;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;

        private sealed class HeadlessServiceResolverFactory : ResolverFactory
        {
            private readonly Lock _gate = new();
            private readonly List<int> _ports = [];
            private readonly List<HeadlessServiceResolver> _resolvers = [];

            public override string Name => "headless";

            public override Resolver Create(ResolverOptions options)
            {
                var resolver = new HeadlessServiceResolver(this);
                lock (_gate)
                {
                    _resolvers.Add(resolver);
                }

                return resolver;
            }

            public void Add(int port) => Update(ports => ports.Add(port));

            public void Remove(int port) => Update(ports => ports.Remove(port));

            public ResolverResult Snapshot()
            {
                lock (_gate)
                {
                    return ResolverResult.ForResult([.. _ports.Select(p => new BalancerAddress("127.0.0.1", p))]);
                }
            }

            private void Update(Action<List<int>> change)
            {
                HeadlessServiceResolver[] resolvers;
                lock (_gate)
                {
                    change(_ports);
                    resolvers = [.. _resolvers];
                }

                foreach (HeadlessServiceResolver r in resolvers)
                {
                    r.Publish();
                }
            }
        }

        private sealed class HeadlessServiceResolver(HeadlessServiceResolverFactory factory) : Resolver
        {
            private Action<ResolverResult>? _listener;

            public override void Start(Action<ResolverResult> listener)
            {
                _listener = listener;
                Publish();
            }

            public void Publish() => _listener?.Invoke(factory.Snapshot());
        }
    }

    /// <summary>Unary SayHello calls at a fixed rate from a fixed number of workers, every outcome recorded.</summary>
    internal sealed class Load
    {
        private readonly ConcurrentQueue<CallRecord> _records = new();
        private readonly List<Task> _workers = [];
        private readonly CancellationTokenSource _stop = new();
        private long _startedAt;

        public IReadOnlyCollection<CallRecord> Records => _records;

        public double Seconds { get; private set; }

        public void Start(GrpcChannel channel, int rate, int workers)
        {
            var client = new Greeter.GreeterClient(channel);
            _startedAt = Stopwatch.GetTimestamp();
            TimeSpan interval = TimeSpan.FromSeconds((double)workers / rate);
            for (int w = 0; w < workers; w++)
            {
                TimeSpan offset = interval * w / workers;
                _workers.Add(Task.Run(() => WorkAsync(client, interval, offset, _stop.Token)));
            }
        }

        public async Task StopAsync()
        {
            await _stop.CancelAsync();
            await Task.WhenAll(_workers);
            Seconds = Stopwatch.GetElapsedTime(_startedAt).TotalSeconds;
        }

        private async Task WorkAsync(Greeter.GreeterClient client, TimeSpan interval, TimeSpan offset, CancellationToken stop)
        {
            long next = _startedAt + (long)(offset.TotalSeconds * Stopwatch.Frequency);
            long step = (long)(interval.TotalSeconds * Stopwatch.Frequency);
            var request = new HelloRequest { Name = "rollout" };
            while (!stop.IsCancellationRequested)
            {
                long wait = next - Stopwatch.GetTimestamp();
                if (wait > 0)
                {
                    try
                    {
                        await Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency), stop);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                }

                next += step;
                double started = Log.Now;
                using AsyncUnaryCall<HelloReply> call = client.SayHelloAsync(request, deadline: DateTime.UtcNow.AddSeconds(10));
                try
                {
                    await call.ResponseAsync;
                    _records.Enqueue(new CallRecord(started, Log.Now, StatusCode.OK, call.GetTrailers().GetValue("served-by"), null));
                }
                catch (RpcException ex)
                {
                    _records.Enqueue(new CallRecord(started, Log.Now, ex.StatusCode, null, ex.Status.Detail));
                }
            }
        }
    }

    internal sealed record CallRecord(double Start, double End, StatusCode Status, string? ServedBy, string? Detail);

    internal sealed record Termination(string Replica, int Round)
    {
        public double BeganAt { get; set; }

        public double? ExitAfter { get; set; }
        public int? ExitCode { get; set; }
        public bool Killed { get; set; }
        public long CallsAfterDrainBegan { get; set; }
        public double? LastCallAfter { get; set; }
        public double? WatchNotServingMs { get; set; }
        public string? StreamStatus { get; set; }
        public double? StreamEndedAfter { get; set; }
    }

    internal sealed record RunResult(string Mode, string Variant, long Calls, double Rate, long Failed, Dictionary<string, long> FailuresByStatus,
        string[] FailureSamples, List<Termination> Terminations, double P99Ms);

    internal static class Rollout
    {
        public static async Task<RunResult> RunAsync(string mode, string variant, Settings settings, CancellationToken cancellationToken)
        {
            string label = $"{mode}-{variant}";
            Log.Info($"== {mode} / {variant} ==");
            await using IBalancer balancer = mode == "haproxy"
                ? await HAProxyBalancer.StartAsync(settings, label)
                : new ClientSideBalancer();

            int serial = 0;
            var live = new List<Replica>();
            for (int i = 0; i < settings.Replicas; i++)
            {
                live.Add(Replica.Start($"r{++serial}", variant, settings, label));
            }

            foreach (Replica r in live)
            {
                await r.WaitReadyAsync(settings.ReadyTimeout, cancellationToken);
                await balancer.AddAsync(r);
            }

            Log.Info($"  {live.Count} replicas ready: {string.Join(", ", live.Select(r => $"{r.Name}:{r.Port} (pid {r.Process.Id})"))}");
            using GrpcChannel channel = balancer.CreateChannel();
            var load = new Load();
            load.Start(channel, settings.Rate, settings.Workers);
            await Task.Delay(settings.Settle, cancellationToken);

            var terminations = new List<(Termination Record, Replica Replica, Task Done)>();
            for (int round = 1; round <= settings.Rounds; round++)
            {
                var thisRound = new List<Task>();
                for (int i = 0; i < live.Count; i++)
                {
                    Replica old = live[i];
                    Replica fresh = Replica.Start($"r{++serial}", variant, settings, label);
                    await fresh.WaitReadyAsync(settings.ReadyTimeout, cancellationToken);
                    await balancer.AddAsync(fresh);
                    live[i] = fresh;
                    bool probe = settings.Probes && variant == "library" && round == 1 && i == 0;
                    Log.Info($"  round {round}: {fresh.Name} ready after {fresh.ReadyAfter:F2} s and added; terminating {old.Name}{(probe ? " (with Watch and stream probes)" : "")}");
                    var record = new Termination(old.Name, round);
                    Task done = TerminateAsync(old, record, balancer, settings, probe, cancellationToken);
                    terminations.Add((record, old, done));
                    thisRound.Add(done);

                    // maxUnavailable 0: the next replacement starts once the old replica has gone.
                    await done;
                }

                await Task.WhenAll(thisRound);
            }

            await Task.Delay(settings.Settle, cancellationToken);
            await load.StopAsync();
            foreach (Replica r in live)
            {
                Children.Signal(r.Process, 2);
            }

            foreach (Replica r in live)
            {
                if (!r.Process.WaitForExit(20_000))
                {
                    r.Process.Kill();
                }
            }

            CallRecord[] records = [.. load.Records];
            foreach ((Termination record, Replica replica, _) in terminations)
            {
                string pid = replica.Process.Id.ToString(CultureInfo.InvariantCulture);
                CallRecord[] after = [.. records.Where(c => c.ServedBy == pid && c.End >= record.BeganAt)];
                record.CallsAfterDrainBegan = after.Length;
                record.LastCallAfter = after.Length > 0 ? after.Max(c => c.End) - record.BeganAt : null;
            }

            CallRecord[] failed = [.. records.Where(c => c.Status != StatusCode.OK)];
            double[] latencies = [.. records.Where(c => c.Status == StatusCode.OK).Select(c => (c.End - c.Start) * 1000).Order()];
            return new RunResult(mode, variant, records.Length, records.Length / load.Seconds, failed.Length,
                failed.GroupBy(c => c.Status.ToString()).ToDictionary(g => g.Key, g => (long)g.Count()),
                [.. failed.Take(5).Select(c => $"{c.Status} at {c.End:F2} s: {c.Detail}")],
                [.. terminations.Select(t => t.Record)],
                latencies.Length == 0 ? 0 : latencies[(int)Math.Min(latencies.Length - 1, Math.Ceiling(latencies.Length * 0.99) - 1)]);
        }

        /// <summary>Kubernetes termination without a preStop hook: SIGTERM, endpoint removal after L, SIGKILL at the grace period.</summary>
        private static async Task TerminateAsync(Replica replica, Termination record, IBalancer balancer, Settings settings, bool probe,
            CancellationToken cancellationToken)
        {
            GrpcChannel? direct = null;
            AsyncServerStreamingCall<HealthCheckResponse>? watch = null;
            AsyncServerStreamingCall<Tick>? stream = null;
            if (probe)
            {
                direct = GrpcChannel.ForAddress(replica.Address);
                watch = new Health.HealthClient(direct).Watch(new HealthCheckRequest());
                await watch.ResponseStream.MoveNext(cancellationToken);
                stream = new Greeter.GreeterClient(direct).StreamTicks(new TickRequest { Count = 0, IntervalMs = 50 });
                await stream.ResponseStream.MoveNext(cancellationToken);
            }

            double began = Log.Now;
            record.BeganAt = began;
            Children.Signal(replica.Process, Replica.SIGTERM);

            Task removal = Task.Run(async () =>
            {
                await Task.Delay(settings.Lag, cancellationToken);
                await balancer.RemoveAsync(replica);
            }, cancellationToken);

            Task? watchDone = watch is null ? null : Task.Run(async () =>
            {
                try
                {
                    while (await watch.ResponseStream.MoveNext())
                    {
                        if (watch.ResponseStream.Current.Status == HealthCheckResponse.Types.ServingStatus.NotServing)
                        {
                            record.WatchNotServingMs = (Log.Now - began) * 1000;
                            return;
                        }
                    }
                }
                catch (RpcException)
                {
                }
            }, cancellationToken);

            Task? streamDone = stream is null ? null : Task.Run(async () =>
            {
                try
                {
                    while (await stream.ResponseStream.MoveNext())
                    {
                    }

                    record.StreamStatus = "OK";
                }
                catch (RpcException ex)
                {
                    record.StreamStatus = ex.StatusCode.ToString();
                }

                record.StreamEndedAfter = Log.Now - began;
            }, cancellationToken);

            using var exited = new CancellationTokenSource(settings.Grace);
            try
            {
                await replica.Process.WaitForExitAsync(exited.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                replica.Process.Kill();
                await replica.Process.WaitForExitAsync(cancellationToken);
                record.Killed = true;
            }

            record.ExitAfter = Log.Now - began;
            record.ExitCode = replica.Process.ExitCode;
            await removal;
            foreach (Task? t in new[] { watchDone, streamDone })
            {
                if (t is not null)
                {
                    await t.WaitAsync(TimeSpan.FromSeconds(5), cancellationToken).ContinueWith(static _ => { }, TaskScheduler.Default);
                }
            }

            watch?.Dispose();
            stream?.Dispose();
            direct?.Dispose();
            Log.Info($"    {replica.Name} exited {record.ExitCode}{(record.Killed ? " (SIGKILL)" : "")} {record.ExitAfter:F2} s after SIGTERM" +
                (probe ? $"; Watch NOT_SERVING after {record.WatchNotServingMs:F1} ms; stream {record.StreamStatus} after {record.StreamEndedAfter:F2} s" : ""));
        }
    }

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
}
