using System.Net;
using System.Net.Sockets;

namespace GracefulShutdown.RabbitMQ.Tests.Integration;

/// <summary>
/// A TCP forwarder on 127.0.0.1 between a worker and the broker: <see cref="Cut"/> makes the broker go away for the worker
/// (its connections reset, new ones refused) while the broker itself keeps running for the test's own checks.
/// </summary>
internal sealed class BrokerLink : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _broker;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private readonly List<Socket> _open = [];
    private readonly Task _accepting;
    private bool _cut;

    public BrokerLink(Uri broker)
    {
        _broker = new IPEndPoint(IPAddress.Loopback, broker.Port);
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>Gets the broker URL through the link.</summary>
    public Uri Url(Uri broker) => new UriBuilder(broker) { Port = ((IPEndPoint)_listener.LocalEndpoint).Port }.Uri;

    /// <summary>The broker goes away: every connection is reset and no new one is accepted.</summary>
    public void Cut()
    {
        lock (_gate)
        {
            if (_cut)
            {
                return;
            }

            _cut = true;
        }

        _stop.Cancel();
        _listener.Stop();
        lock (_gate)
        {
            foreach (Socket socket in _open)
            {
                socket.LingerState = new LingerOption(true, 0);
                socket.Dispose();
            }

            _open.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        Cut();
        await _accepting;
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = ForwardAsync(client);
        }
    }

    private async Task ForwardAsync(Socket client)
    {
        var upstream = new Socket(SocketType.Stream, ProtocolType.Tcp);
        lock (_gate)
        {
            if (_cut)
            {
                client.Dispose();
                upstream.Dispose();
                return;
            }

            _open.Add(client);
            _open.Add(upstream);
        }

        try
        {
            await upstream.ConnectAsync(_broker, _stop.Token);
            await Task.WhenAny(PumpAsync(client, upstream), PumpAsync(upstream, client));
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            lock (_gate)
            {
                _open.Remove(client);
                _open.Remove(upstream);
            }

            client.Dispose();
            upstream.Dispose();
        }
    }

    private async Task PumpAsync(Socket from, Socket to)
    {
        byte[] buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                int read = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (read == 0)
                {
                    return;
                }

                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _stop.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }
}
