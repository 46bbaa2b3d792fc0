using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;

// Keeps N clients of one kind connected to a balancer for a bounded time; each sends a message (WebSocket: a text frame to
// GET /ws and waits for its echo; SignalR: Echo(string) on /hub) every --interval-ms, reconnects whenever the server closes
// its connection, and resends a message whose echo did not come back. It counts what every benchmark needs to prove that a
// replica left cleanly: messages echoed, resent and lost, and how each connection ended (1001, 1000, 1006 = no close frame).
// Usage: LongLivedLoad --mode ws|signalr --url http://127.0.0.1:PORT [--clients 20] [--interval-ms 50] [--duration-s 600]
//        [--out result.json]. It stops at --duration-s or on SIGINT/SIGTERM, then prints and writes the summary.
var options = Options.Parse(args);
using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(options.DurationSeconds));
using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });

var stats = new Stats(options.Mode, options.Clients);
var started = Stopwatch.StartNew();
Task[] clients = Enumerable.Range(0, options.Clients)
    .Select(i => options.Mode == "ws" ? WebSocketClient.RunAsync(i, options, stats, stop.Token) : SignalRClient.RunAsync(i, options, stats, stop.Token))
    .ToArray();
Console.WriteLine($"LongLivedLoad: {options.Clients} {options.Mode} clients against {options.Url}");
await Task.WhenAll(clients);
string json = stats.ToJson(started.Elapsed);
Console.WriteLine(json);
if (options.Out is not null)
{
    await File.WriteAllTextAsync(options.Out, json);
}

return 0;

internal sealed record Options(string Mode, Uri Url, int Clients, int IntervalMs, int DurationSeconds, string? Out)
{
    public static Options Parse(string[] args)
    {
        string? mode = null, url = null, output = null;
        int clients = 20, interval = 50, duration = 600;
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            string value = args[i + 1];
            switch (args[i])
            {
                case "--mode": mode = value; break;
                case "--url": url = value; break;
                case "--clients": clients = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--interval-ms": interval = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--duration-s": duration = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--out": output = value; break;
                default: throw new ArgumentException($"Unknown option '{args[i]}'.");
            }
        }

        if (mode is not ("ws" or "signalr") || url is null || clients is < 1 or > 1000 || interval is < 1 or > 60_000 || duration is < 1 or > 3600)
        {
            throw new ArgumentException("Usage: --mode ws|signalr --url http://127.0.0.1:PORT [--clients 1-1000] [--interval-ms 1-60000] [--duration-s 1-3600] [--out file]");
        }

        return new Options(mode, new Uri(url), clients, interval, duration, output);
    }
}

/// <summary>Counters shared by all clients.</summary>
internal sealed class Stats(string mode, int clients)
{
    private long _echoed, _resent, _lost, _connects, _connectFailures, _mismatched;
    private readonly ConcurrentDictionary<string, long> _endings = new();
    private readonly ConcurrentQueue<double> _latencies = new();

    public void Echoed(double ms)
    {
        Interlocked.Increment(ref _echoed);
        if (_latencies.Count < 2_000_000)
        {
            _latencies.Enqueue(ms);
        }
    }

    public void Resent() => Interlocked.Increment(ref _resent);
    public void Lost() => Interlocked.Increment(ref _lost);
    public void Mismatched() => Interlocked.Increment(ref _mismatched);
    public void Connected() => Interlocked.Increment(ref _connects);
    public void ConnectFailed() => Interlocked.Increment(ref _connectFailures);
    public void Ended(string how) => _endings.AddOrUpdate(how, 1, static (_, n) => n + 1);

    public string ToJson(TimeSpan elapsed)
    {
        double[] sorted = [.. _latencies.OrderBy(static x => x)];
        double P(double q) => sorted.Length == 0 ? 0 : Math.Round(sorted[Math.Min(sorted.Length - 1, (int)(q * sorted.Length))], 2);
        return JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["mode"] = mode,
            ["clients"] = clients,
            ["duration_s"] = Math.Round(elapsed.TotalSeconds, 2),
            ["echoed"] = Interlocked.Read(ref _echoed),
            ["resent"] = Interlocked.Read(ref _resent),
            ["lost"] = Interlocked.Read(ref _lost),
            ["mismatched"] = Interlocked.Read(ref _mismatched),
            ["connects"] = Interlocked.Read(ref _connects),
            ["connect_failures"] = Interlocked.Read(ref _connectFailures),
            ["endings"] = new SortedDictionary<string, long>(_endings),
            ["latency_ms"] = new Dictionary<string, double> { ["p50"] = P(0.5), ["p99"] = P(0.99), ["max"] = sorted.Length == 0 ? 0 : Math.Round(sorted[^1], 2) },
        }, new JsonSerializerOptions { WriteIndented = true });
    }
}

/// <summary>A WebSocket client of GET /ws that sends, waits for the echo, and reconnects whenever its connection ends.</summary>
internal static class WebSocketClient
{
    private const int MaxAttempts = 5;

    public static async Task RunAsync(int id, Options options, Stats stats, CancellationToken stop)
    {
        var uri = new UriBuilder(new Uri(options.Url, "ws")) { Scheme = options.Url.Scheme == "https" ? "wss" : "ws" }.Uri;
        byte[] buffer = new byte[4096];
        long sequence = 0;
        string? pending = null; // a message whose echo has not come back yet
        int attempts = 0;
        while (!stop.IsCancellationRequested)
        {
            using var socket = new ClientWebSocket();
            try
            {
                await socket.ConnectAsync(uri, stop);
            }
            catch (Exception) when (!stop.IsCancellationRequested)
            {
                stats.ConnectFailed();
                await Delay(100, stop);
                continue;
            }
            catch (OperationCanceledException)
            {
                break;
            }

            stats.Connected();
            string ending = await ConverseAsync(socket);
            stats.Ended(ending);
        }

        if (pending is not null)
        {
            stats.Lost();
        }

        async Task<string> ConverseAsync(ClientWebSocket socket)
        {
            try
            {
                while (true)
                {
                    if (stop.IsCancellationRequested)
                    {
                        using var closeTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "load done", closeTimeout.Token);
                        return "client-stop";
                    }

                    if (pending is null)
                    {
                        pending = $"{id}:{++sequence}";
                        attempts = 0;
                    }
                    else
                    {
                        stats.Resent();
                    }

                    if (++attempts > MaxAttempts)
                    {
                        stats.Lost();
                        pending = null;
                        continue;
                    }

                    long sentAt = Stopwatch.GetTimestamp();
                    await socket.SendAsync(Encoding.UTF8.GetBytes(pending), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
                    ValueWebSocketReceiveResult received = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
                    if (received.MessageType == WebSocketMessageType.Close)
                    {
                        // The server is going away: answer its close and reconnect (through the balancer: to another replica).
                        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "reconnecting", CancellationToken.None);
                        return ((int?)socket.CloseStatus)?.ToString(CultureInfo.InvariantCulture) ?? "close-without-status";
                    }

                    if (Encoding.UTF8.GetString(buffer, 0, received.Count) == pending)
                    {
                        stats.Echoed(Stopwatch.GetElapsedTime(sentAt).TotalMilliseconds);
                    }
                    else
                    {
                        stats.Mismatched();
                    }

                    pending = null;
                    await Delay(options.IntervalMs, stop);
                }
            }
            catch (WebSocketException ex) when (ex.WebSocketErrorCode == WebSocketError.ConnectionClosedPrematurely)
            {
                return "1006";
            }
            catch (Exception ex) when (ex is WebSocketException or IOException)
            {
                return "1006";
            }
        }
    }

    private static async Task Delay(int ms, CancellationToken stop)
    {
        try
        {
            await Task.Delay(ms, stop);
        }
        catch (OperationCanceledException)
        {
        }
    }
}

/// <summary>The real SignalR client with automatic reconnect, calling Echo in a loop and retrying a call the closing connection cut.</summary>
internal static class SignalRClient
{
    private const int MaxAttempts = 5;

    public static async Task RunAsync(int id, Options options, Stats stats, CancellationToken stop)
    {
        // Skip negotiation: behind a round-robin balancer the negotiate and the connect request could reach different replicas.
        HubConnection hub = new HubConnectionBuilder()
            .WithUrl(new Uri(options.Url, "hub"), o =>
            {
                o.SkipNegotiation = true;
                o.Transports = HttpTransportType.WebSockets;
            })
            .WithAutomaticReconnect(new ForeverRetry())
            .Build();
        hub.Reconnecting += error =>
        {
            stats.Ended(Classify(error));
            return Task.CompletedTask;
        };
        hub.Reconnected += _ =>
        {
            stats.Connected();
            return Task.CompletedTask;
        };

        while (!stop.IsCancellationRequested)
        {
            try
            {
                await hub.StartAsync(stop);
                stats.Connected();
                break;
            }
            catch (Exception) when (!stop.IsCancellationRequested)
            {
                stats.ConnectFailed();
                await Delay(100, stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        long sequence = 0;
        while (!stop.IsCancellationRequested)
        {
            string message = $"{id}:{++sequence}";
            bool echoed = false;
            for (int attempt = 1; attempt <= MaxAttempts && !stop.IsCancellationRequested; attempt++)
            {
                if (attempt > 1)
                {
                    stats.Resent();
                }

                if (hub.State != HubConnectionState.Connected)
                {
                    // Reconnecting: wait for it rather than burn attempts.
                    await WaitConnectedAsync(hub, stop);
                }

                long sentAt = Stopwatch.GetTimestamp();
                try
                {
                    string reply = await hub.InvokeAsync<string>("Echo", message, CancellationToken.None);
                    if (reply == message)
                    {
                        stats.Echoed(Stopwatch.GetElapsedTime(sentAt).TotalMilliseconds);
                    }
                    else
                    {
                        stats.Mismatched();
                    }

                    echoed = true;
                    break;
                }
                catch (Exception) when (!stop.IsCancellationRequested)
                {
                    // The connection closed under the call (or was not active): retry on the next connection.
                }
                catch (Exception)
                {
                    break;
                }
            }

            if (!echoed && !stop.IsCancellationRequested)
            {
                stats.Lost();
            }

            await Delay(options.IntervalMs, stop);
        }

        using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await hub.StopAsync(stopTimeout.Token);
        }
        catch (Exception)
        {
        }

        stats.Ended("client-stop");
        await hub.DisposeAsync();
    }

    /// <summary>
    /// How the server ended the connection, from the real client's report: the .NET client raises Reconnecting with no error for a
    /// normal close (1000), "Websocket closed with error: EndpointUnavailable" for 1001, and a WebSocketException when the
    /// connection dropped without a close frame (1006).
    /// </summary>
    private static string Classify(Exception? error) => error switch
    {
        null => "1000",
        WebSocketException => "1006",
        _ when error.Message.Contains("EndpointUnavailable", StringComparison.Ordinal) => "1001",
        _ when error.InnerException is WebSocketException => "1006",
        _ => "other:" + error.GetType().Name + ": " + error.Message,
    };

    private static async Task WaitConnectedAsync(HubConnection hub, CancellationToken stop)
    {
        var connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Func<string?, Task> onReconnected = _ =>
        {
            connected.TrySetResult();
            return Task.CompletedTask;
        };
        hub.Reconnected += onReconnected;
        try
        {
            if (hub.State != HubConnectionState.Connected)
            {
                await connected.Task.WaitAsync(TimeSpan.FromSeconds(30), stop);
            }
        }
        catch (Exception)
        {
        }
        finally
        {
            hub.Reconnected -= onReconnected;
        }
    }

    private static async Task Delay(int ms, CancellationToken stop)
    {
        try
        {
            await Task.Delay(ms, stop);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Reconnects at once, then every 100 ms up to 1 s, for as long as the load runs.</summary>
    private sealed class ForeverRetry : IRetryPolicy
    {
        public TimeSpan? NextRetryDelay(RetryContext retryContext) =>
            TimeSpan.FromMilliseconds(Math.Min(1000, retryContext.PreviousRetryCount * 100));
    }
}
