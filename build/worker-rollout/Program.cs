using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

// build/worker-rollout: a rolling replacement of worker replicas (maxSurge 1, maxUnavailable 0: start the new one, wait until it
// is ready, SIGTERM the old one, as kubelet would) while a publisher sends messages with unique ids at a fixed rate. Then every
// id must be in the result queue exactly once. Usage:
//   WorkerRollout [--short] [--replicas 2] [--messages 400] [--rate 40] [--mode all|library|plain|plain-manual|plain-auto…,…]
//                 [--url amqp://…]
// Modes: library (Sample:UseLibrary=true); plain-manual and plain-auto (Sample:UseLibrary=false, Sample:PlainAck=manual|auto:
// the plain BackgroundService consumer with the two acknowledgement patterns of the RabbitMQ tutorials); a mode ending in
// "+own" publishes results on a connection of its own (Worker:ResultConnection=own), otherwise on the consumer's channel.
// plain is both plain modes; all (the default) is library, plain-manual, plain-auto, library+own, plain-manual+own. --short (CI): 2 replicas, 400 messages at 40/s, every mode; exits 1 if the library row loses or duplicates an id, answers
// readiness 503 later than 0.5 s after SIGTERM, or exits non-zero or later than 5 s after it.
int replicas = 2, messages = 400, rate = 40;
string mode = "all";
string url = Environment.GetEnvironmentVariable("GRACEFULSHUTDOWN_RABBITMQ_URL") ?? "amqp://guest:guest@127.0.0.1:5673/";
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--short": break;
        case "--replicas": replicas = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--messages": messages = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--rate": rate = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--mode": mode = args[++i]; break;
        case "--url": url = args[++i]; break;
        default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
    }
}

string sampleDll = typeof(Replica).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "SampleDll").Value!;
var rows = new List<Row>();
var consumers = new List<Consumer>();
foreach (string m in mode.Split(','))
{
    consumers.AddRange(m switch
    {
        "all" or "both" => [Consumer.Library, Consumer.PlainManual, Consumer.PlainAuto, Consumer.LibraryOwn, Consumer.PlainManualOwn],
        "library" => [Consumer.Library],
        "plain" => [Consumer.PlainManual, Consumer.PlainAuto],
        "plain-manual" => [Consumer.PlainManual],
        "plain-auto" => [Consumer.PlainAuto],
        "library+own" => [Consumer.LibraryOwn],
        "plain-manual+own" => [Consumer.PlainManualOwn],
        "plain-auto+own" => [Consumer.PlainAutoOwn],
        _ => throw new ArgumentException($"unknown mode {m}"),
    });
}

const string Header = "| consumer | replicas | messages | in result queue | lost | processed twice | readiness 503 after SIGTERM (max) | exit after SIGTERM (max) | exit codes |";
foreach (Consumer consumer in consumers.Distinct())
{
    Row row = await Rollout.RunAsync(new Uri(url), sampleDll, consumer, replicas, messages, rate);
    rows.Add(row);

    // Each row as soon as it is measured: a later mode that fails does not take it along.
    Console.WriteLine($"  {row}");
}

Console.WriteLine();
Console.WriteLine(Header);
Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
foreach (Row row in rows)
{
    Console.WriteLine(row);
}

bool ok = rows.Where(r => r.Consumer is Consumer.Library or Consumer.LibraryOwn).All(library => library.Lost == 0 &&
    library.Duplicates == 0 && library.MaxUnready < TimeSpan.FromSeconds(0.5) && library.MaxExit < TimeSpan.FromSeconds(5) &&
    library.ExitCodes.All(c => c == 0));
Console.WriteLine(ok ? "worker rollout: library OK" : "worker rollout: library FAILED");
return ok ? 0 : 1;

internal enum Consumer
{
    Library,
    PlainManual,
    PlainAuto,
    LibraryOwn,
    PlainManualOwn,
    PlainAutoOwn,
}

internal sealed record Row(Consumer Consumer, int Replicas, int Messages, int Received, int Lost, int Duplicates, TimeSpan MaxUnready,
    TimeSpan MaxExit, IReadOnlyList<int> ExitCodes)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"| {Rollout.Label(Consumer)} | {Replicas} | {Messages} | {Received} | {Lost} | {Duplicates} | {MaxUnready.TotalSeconds:0.000} s | {MaxExit.TotalSeconds:0.000} s | {string.Join(' ', ExitCodes)} |");
}

internal static class Rollout
{
    public static string Label(Consumer consumer) => consumer switch
    {
        Consumer.Library => "library",
        Consumer.PlainManual => "plain, manual ack",
        Consumer.PlainAuto => "plain, autoAck",
        Consumer.LibraryOwn => "library, results on own connection",
        Consumer.PlainManualOwn => "plain, manual ack, results on own connection",
        _ => "plain, autoAck, results on own connection",
    };

    public static async Task<Row> RunAsync(Uri url, string sampleDll, Consumer consumer, int replicaCount, int messages, int rate)
    {
        string queue = $"rollout-{consumer.ToString().ToLowerInvariant()}-{Guid.NewGuid().ToString("N")[..8]}";
        string results = queue + ".done";
        var factory = new ConnectionFactory { Uri = url };
        await using IConnection connection = await factory.CreateConnectionAsync();
        await using IChannel channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true));
        await using IChannel resultChannel = await connection.CreateChannelAsync();
        foreach (string q in (string[])[queue, results])
        {
            await channel.QueueDeclareAsync(q, durable: true, exclusive: false, autoDelete: false, arguments: null);
        }

        var seen = new ConcurrentDictionary<string, int>();
        var collector = new AsyncEventingBasicConsumer(resultChannel);
        collector.ReceivedAsync += (_, d) =>
        {
            seen.AddOrUpdate(Encoding.UTF8.GetString(d.Body.Span), 1, static (_, n) => n + 1);
            return Task.CompletedTask;
        };
        string resultTag = await resultChannel.BasicConsumeAsync(results, autoAck: true, collector);

        Console.WriteLine($"{Label(consumer)}: {replicaCount} replicas, {messages} messages at {rate}/s on {queue}");
        var running = new List<Replica>();
        var terminations = new ConcurrentBag<Termination>();
        try
        {
            for (int i = 0; i < replicaCount; i++)
            {
                running.Add(await Replica.StartAsync(sampleDll, url, queue, results, consumer));
            }

            Task publishing = PublishAsync(channel, queue, messages, rate);
            Task rolling = Task.Run(async () =>
            {
                // Roll while the publisher runs: spread the replacements over the first 80 % of the publishing time.
                TimeSpan spacing = TimeSpan.FromSeconds(0.8 * messages / rate / replicaCount);
                foreach (Replica old in running.ToArray())
                {
                    await Task.Delay(spacing);
                    Replica fresh = await Replica.StartAsync(sampleDll, url, queue, results, consumer);
                    lock (running)
                    {
                        running.Add(fresh);
                    }

                    terminations.Add(await old.TerminateAsync());
                    lock (running)
                    {
                        running.Remove(old);
                    }
                }
            });
            await Task.WhenAll(publishing, rolling);

            // Let the new replicas finish the queue: until every id arrived, or nothing new for 10 s.
            int last = -1;
            var quiet = Stopwatch.StartNew();
            while (seen.Count < messages && quiet.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(200);
                if (seen.Count != last)
                {
                    last = seen.Count;
                    quiet.Restart();
                }
            }

            foreach (Replica replica in running.ToArray())
            {
                await replica.TerminateAsync();
            }
        }
        finally
        {
            // A failed run leaves no replica behind.
            foreach (Replica replica in running.ToArray())
            {
                replica.KillIfRunning();
            }
        }

        // Every replica has exited: what it published is confirmed; collect what the consumer has not received yet.
        await resultChannel.BasicCancelAsync(resultTag);
        while (await channel.BasicGetAsync(results, autoAck: true) is BasicGetResult got)
        {
            seen.AddOrUpdate(Encoding.UTF8.GetString(got.Body.Span), 1, static (_, n) => n + 1);
        }

        foreach (string q in (string[])[queue, results])
        {
            await channel.QueueDeleteAsync(q);
        }

        Termination[] done = [.. terminations];
        return new Row(consumer, replicaCount, messages, seen.Count, messages - seen.Count(p => p.Key.StartsWith("id-", StringComparison.Ordinal)),
            seen.Values.Sum(n => n - 1), done.Max(t => t.Unready), done.Max(t => t.Exit), [.. done.Select(t => t.ExitCode)]);
    }

    private static async Task PublishAsync(IChannel channel, string queue, int messages, int rate)
    {
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < messages; i++)
        {
            TimeSpan due = TimeSpan.FromSeconds((double)i / rate);
            if (due > clock.Elapsed)
            {
                await Task.Delay(due - clock.Elapsed);
            }

            string id = $"id-{i:D6}";
            await channel.BasicPublishAsync(string.Empty, queue, mandatory: false, new BasicProperties { Persistent = true, MessageId = id },
                Encoding.UTF8.GetBytes(id));
        }
    }
}

internal sealed record Termination(TimeSpan Unready, TimeSpan Exit, int ExitCode);

internal sealed partial class Replica
{
    private static readonly HttpClient s_probe = new() { Timeout = TimeSpan.FromSeconds(1) };
    private readonly Process _process;
    private readonly int _port;

    private Replica(Process process, int port)
    {
        _process = process;
        _port = port;
    }

    public static async Task<Replica> StartAsync(string sampleDll, Uri url, string queue, string results, Consumer consumer)
    {
        int port = FreePort();
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in (string[])[sampleDll, $"--RabbitMQ:Url={url}", $"--Worker:Queue={queue}", $"--Worker:ResultQueue={results}",
            $"--GracefulShutdown:ManagementPort={port}", $"--Sample:UseLibrary={consumer is Consumer.Library or Consumer.LibraryOwn}",
            $"--Sample:PlainAck={(consumer is Consumer.PlainAuto or Consumer.PlainAutoOwn ? "auto" : "manual")}",
            $"--Worker:ResultConnection={(consumer >= Consumer.LibraryOwn ? "own" : "consumer")}", "--Logging:LogLevel:Default=Warning"])
        {
            start.ArgumentList.Add(a);
        }

        var process = Process.Start(start)!;
        var output = new ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                output.Enqueue(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                Console.Error.WriteLine($"  [{process.Id}] {e.Data}");
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var replica = new Replica(process, port);

        // kubelet's readiness probe, every 100 ms, up to 60 s.
        var clock = Stopwatch.StartNew();
        while (await replica.ReadyAsync() != true)
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(60) || process.HasExited)
            {
                if (!process.HasExited)
                {
                    process.Kill();
                }

                throw new InvalidOperationException(
                    $"replica {process.Id} never became ready (exited: {process.HasExited}); its output:\n{string.Join('\n', output)}");
            }

            await Task.Delay(100);
        }

        return replica;
    }

    /// <summary>SIGTERM; measures until readiness answers 503 (or refuses) and until the process exits.</summary>
    public async Task<Termination> TerminateAsync()
    {
        var clock = Stopwatch.StartNew();
        _ = Kill(_process.Id, 15);
        TimeSpan unready = TimeSpan.MaxValue;
        while (!_process.HasExited && clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (unready == TimeSpan.MaxValue && await ReadyAsync() != true)
            {
                unready = clock.Elapsed;
            }

            await Task.Delay(20);
        }

        if (unready == TimeSpan.MaxValue)
        {
            unready = clock.Elapsed;
        }

        using var exitBound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await _process.WaitForExitAsync(exitBound.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        TimeSpan exit = clock.Elapsed;
        return new Termination(unready, exit, _process.ExitCode);
    }

    public void KillIfRunning()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }
    }

    private async Task<bool?> ReadyAsync()
    {
        try
        {
            using HttpResponseMessage response = await s_probe.GetAsync($"http://127.0.0.1:{_port}/health/ready");
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int Kill(int pid, int signal);
}
