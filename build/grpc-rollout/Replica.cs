using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;

namespace GracefulShutdown.GrpcRollout;

/// <summary>A replica: a real process of the gRPC sample on its own port, ready when its gRPC health says SERVING.</summary>
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
