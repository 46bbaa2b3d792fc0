using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using GracefulShutdown.Lifecycle;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GracefulShutdown.Benchmarks;

/// <summary>
/// Bytes allocated per request through real Kestrel, with <c>services.AddGracefulShutdown()</c> and without it. Only a real
/// server shows whether the middleware's <c>Response.OnCompleted</c> registration is free: Kestrel keeps its callback stack
/// per connection, a bare <see cref="DefaultHttpContext"/> does not.
/// </summary>
/// <remarks>
/// Each run starts the sample's pipeline shape in this process on 127.0.0.1:0 (WebApplication, one endpoint whose handler
/// completes asynchronously: <c>await Task.Yield()</c>, then a 2-byte body), sends sequential keep-alive HTTP/1.1 requests
/// over one raw socket from this process, and reports the delta of <see cref="GC.GetTotalAllocatedBytes(bool)"/> (all
/// threads) per request. The client's share is the same in both variants, so the difference is the library's.
/// </remarks>
internal static class KestrelAllocation
{
    public const string Switch = "--kestrel-alloc";

    private static readonly byte[] s_body = "ok"u8.ToArray();
    private static readonly byte[] s_request = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"u8.ToArray();
    private static readonly byte[] s_checkRequest = "GET /check HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"u8.ToArray();
    private static readonly byte[] s_headerEnd = "\r\n\r\n"u8.ToArray();

    private static RequestTracker? s_coordinator;
    private static long s_inFlightSeenByHandler;

    public static async Task<int> RunAsync(string[] args)
    {
        int requests = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 20_000;
        int warmup = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 20_000;
        int rounds = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 3;

        Console.WriteLine($"Kestrel, 127.0.0.1:0, in-process raw-socket client, 1 keep-alive HTTP/1.1 connection, sequential requests");
        Console.WriteLine($"handler: await Task.Yield(); 2-byte body. {warmup} warm-up + {requests} measured requests per run; {rounds} rounds, alternating which variant runs first");
        Console.WriteLine($"Runtime: .NET {Environment.Version}, GC: {(System.Runtime.GCSettings.IsServerGC ? "Server" : "Workstation")}, {Environment.ProcessorCount} CPUs");
        Console.WriteLine();
        Console.WriteLine("| Round | Variant | Requests | Allocated bytes (all threads) | Bytes/request | Library in flight during a request / after |");
        Console.WriteLine("|---:|---|---:|---:|---:|---|");

        var perRequest = new Dictionary<bool, List<double>> { [true] = [], [false] = [] };
        bool ok = true;
        for (int round = 1; round <= rounds; round++)
        {
            bool[] order = round % 2 == 1 ? [true, false] : [false, true];
            foreach (bool useLibrary in order)
            {
                RunResult result = await RunOnceAsync(useLibrary, warmup, requests);
                double bytesPerRequest = (double)result.AllocatedBytes / requests;
                perRequest[useLibrary].Add(bytesPerRequest);
                string inFlight = result.InFlight is long n
                    ? string.Create(CultureInfo.InvariantCulture, $"{result.InFlightDuring} / {n}")
                    : "n/a";
                ok &= result.InFlight is null || (result.InFlight == 0 && result.InFlightDuring == 1);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {round} | {(useLibrary ? "library" : "plain")} | {requests} | {result.AllocatedBytes} | {bytesPerRequest:F2} | {inFlight} |"));
            }
        }

        Console.WriteLine();
        double library = Median(perRequest[true]);
        double plain = Median(perRequest[false]);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Median bytes/request: library {library:F2}, plain {plain:F2}, difference {library - plain:+0.00;-0.00;0.00}"));
        if (!ok)
        {
            Console.WriteLine("FAILED: the library's in-flight count was not 1 during the check request or did not return to 0.");
        }

        return ok ? 0 : 1;
    }

    private readonly record struct RunResult(long AllocatedBytes, long InFlightDuring, long? InFlight);

    private static async Task<RunResult> RunOnceAsync(bool useLibrary, int warmup, int requests)
    {
        WebApplicationBuilder builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [] });
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));

        // No console output per request (the sample's appsettings keep Microsoft.AspNetCore at Warning); same in both.
        builder.Logging.ClearProviders();
        if (useLibrary)
        {
            builder.Services.AddGracefulShutdown();
        }

        WebApplication app = builder.Build();
        app.MapGet("/", static async context =>
        {
            await Task.Yield();
            context.Response.ContentLength = s_body.Length;
            await context.Response.Body.WriteAsync(s_body);
        });

        // Proof that the middleware runs: the handler of this (unmeasured) request reads the library's in-flight count.
        app.MapGet("/check", static async context =>
        {
            Volatile.Write(ref s_inFlightSeenByHandler, s_coordinator?.InFlight ?? -1);
            context.Response.ContentLength = s_body.Length;
            await context.Response.Body.WriteAsync(s_body);
        });

        await app.StartAsync();
        try
        {
            RequestTracker? coordinator = useLibrary ? app.Services.GetRequiredService<RequestTracker>() : null;
            s_coordinator = coordinator;
            if (coordinator is not null)
            {
                await app.Services.GetRequiredService<IGracefulShutdown>().WhenReady.WaitAsync(TimeSpan.FromSeconds(10));
            }

            string address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
            int port = new Uri(address).Port;

            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
            var buffer = new byte[64 * 1024];

            await SendRequestsAsync(socket, buffer, warmup, s_request);
            await SettleAsync(coordinator);
            await SendRequestsAsync(socket, buffer, 1, s_checkRequest);
            long inFlightDuring = Volatile.Read(ref s_inFlightSeenByHandler);
            await SettleAsync(coordinator);

            long before = GC.GetTotalAllocatedBytes(precise: true);
            await SendRequestsAsync(socket, buffer, requests, s_request);
            long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

            // The last response's OnCompleted callback may run just after its bytes reach the client.
            long? inFlight = await SettleAsync(coordinator);
            return new RunResult(allocated, inFlightDuring, inFlight);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    private static async Task<long?> SettleAsync(RequestTracker? coordinator)
    {
        if (coordinator is null)
        {
            return null;
        }

        for (int i = 0; i < 100 && coordinator.InFlight != 0; i++)
        {
            await Task.Delay(10);
        }

        return coordinator.InFlight;
    }

    /// <summary>Sends <paramref name="count"/> requests one after the other, reading each whole response (Content-Length: 2) before the next.</summary>
    private static async Task SendRequestsAsync(Socket socket, byte[] buffer, int count, byte[] request)
    {
        for (int i = 0; i < count; i++)
        {
            await socket.SendAsync(request.AsMemory(), SocketFlags.None);
            int received = 0;
            while (true)
            {
                int n = await socket.ReceiveAsync(buffer.AsMemory(received), SocketFlags.None);
                if (n == 0)
                {
                    throw new InvalidOperationException("The server closed the connection.");
                }

                received += n;
                int headerEnd = buffer.AsSpan(0, received).IndexOf(s_headerEnd);
                if (headerEnd >= 0 && received >= headerEnd + s_headerEnd.Length + s_body.Length)
                {
                    if (received != headerEnd + s_headerEnd.Length + s_body.Length
                        || !buffer.AsSpan(0, received).StartsWith("HTTP/1.1 200 "u8))
                    {
                        throw new InvalidOperationException("Unexpected response: " + Encoding.ASCII.GetString(buffer, 0, received));
                    }

                    break;
                }
            }
        }
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        int mid = values.Count / 2;
        return values.Count % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
    }
}
