using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace GracefulShutdown.WorkerSample;

/// <summary>
/// The baseline's /health/ready on GracefulShutdown:ManagementPort (200 while consuming, 503 once the host stops), so a harness
/// can wait for both modes the same way. What a plain Worker Service would add by hand: one HTTP/1.1 answer per connection on a
/// bare socket (System.Net.HttpListener can throw from Start when a probe connects while it starts).
/// </summary>
internal sealed class PlainManagementPort(IConfiguration configuration, PlainReadiness readiness) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (configuration.GetValue<int?>("GracefulShutdown:ManagementPort") is not int port)
        {
            return;
        }

        using var listener = new TcpListener(IPAddress.Any, port);
        listener.Start();
        while (!stoppingToken.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptSocketAsync(stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            _ = AnswerAsync(socket, stoppingToken);
        }
    }

    private async Task AnswerAsync(Socket socket, CancellationToken stoppingToken)
    {
        using (socket)
        {
            try
            {
                var buffer = new byte[1024];
                int read = await socket.ReceiveAsync(buffer, SocketFlags.None, stoppingToken);
                string line = Encoding.ASCII.GetString(buffer, 0, read).Split('\n')[0];
                bool isReady = line.StartsWith("GET /health/ready ", StringComparison.Ordinal);
                string status = !isReady ? "404 Not Found" : readiness.Ready ? "200 OK" : "503 Service Unavailable";
                await socket.SendAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
                    SocketFlags.None, stoppingToken);
                socket.Shutdown(SocketShutdown.Both);
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException)
            {
                // The prober went away, or the host is stopping.
            }
        }
    }
}
