using System.Diagnostics;
using System.Net.Sockets;
using GracefulShutdown.Testing.Processes;
using Grpc.Net.Client;

namespace GracefulShutdown.Grpc.Tests.Integration;

/// <summary>
/// The gRPC sample as a real child process on 127.0.0.1, with its log lines observable as events and real signals.
/// </summary>
internal sealed class SampleProcess : SampleProcessBase
{
    private SampleProcess(Process process)
        : base(process)
    {
    }

    /// <summary>
    /// Starts the sample. Returns once the server listens and, with the library, once the app is ready, unless
    /// <paramref name="waitUntilListening"/> is false.
    /// </summary>
    public static Task<SampleProcess> StartAsync(IEnumerable<string>? arguments = null, IDictionary<string, string>? environment = null,
        string urls = "http://127.0.0.1:0", bool waitUntilListening = true) =>
        StartProcessAsync(process => new SampleProcess(process), "GracefulShutdown.GrpcSample", arguments, environment, urls, waitUntilListening);

    /// <summary>A real Grpc.Net.Client channel over plaintext HTTP/2, counting the TCP connections it opens.</summary>
    public static GrpcChannel CreateChannel(Uri address, ConnectionCounter? counter = null)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }

                counter?.Increment();
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        return GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
    }

    public sealed class ConnectionCounter
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public void Increment() => Interlocked.Increment(ref _count);
    }
}
