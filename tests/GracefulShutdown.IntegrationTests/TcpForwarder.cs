using System.Net;
using System.Net.Sockets;
using System.Text;

namespace GracefulShutdown.IntegrationTests;

/// <summary>What a <see cref="TcpForwarder"/> does with a connection it accepts.</summary>
internal enum ForwarderMode
{
    /// <summary>Forward the bytes both ways, like a same-pod proxy (a mesh sidecar, an nginx in front).</summary>
    Forward,

    /// <summary>Read the request, answer bytes that are not HTTP, close.</summary>
    Garbage,

    /// <summary>Read the request and never answer (until the forwarder is disposed).</summary>
    Hang,
}

/// <summary>
/// A TCP forwarder on 127.0.0.1 whose outgoing connections can come from a chosen source address: with 127.0.0.6 it is
/// what the app sees behind an Istio sidecar (Linkerd's proxy connects from 127.0.0.1). Its mode can switch to fault
/// injection (garbage, hang); switching closes the connections open so far, so pooled clients must reconnect.
/// </summary>
internal sealed class TcpForwarder : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly IPEndPoint _target;
    private readonly IPAddress? _source;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private readonly List<Socket> _open = [];
    private readonly Task _acceptLoop;
    private int _mode;
    private int _accepted;

    private TcpForwarder(IPEndPoint target, IPAddress? source)
    {
        _target = target;
        _source = source;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _acceptLoop = AcceptLoopAsync();
    }

    /// <summary>Starts forwarding from 127.0.0.1 (a free port) to <paramref name="target"/>, connecting from <paramref name="source"/> if given.</summary>
    public static TcpForwarder Start(IPEndPoint target, IPAddress? source = null) => new(target, source);

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public Uri BaseAddress => new($"http://127.0.0.1:{Port}/");

    /// <summary>Gets how many connections were accepted so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    public ForwarderMode Mode
    {
        get => (ForwarderMode)Volatile.Read(ref _mode);
        set
        {
            Volatile.Write(ref _mode, (int)value);
            CloseOpenConnections();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        CloseOpenConnections();
        try
        {
            await _acceptLoop;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
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

            Interlocked.Increment(ref _accepted);
            Track(client);
            _ = HandleAsync(client);
        }
    }

    private async Task HandleAsync(Socket client)
    {
        try
        {
            switch (Mode)
            {
                case ForwarderMode.Forward:
                    using (var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
                    {
                        if (_source is not null)
                        {
                            upstream.Bind(new IPEndPoint(_source, 0));
                        }

                        Track(upstream);
                        await upstream.ConnectAsync(_target, _stop.Token);
                        Task up = PumpAsync(client, upstream);
                        Task down = PumpAsync(upstream, client);
                        await Task.WhenAny(up, down);
                        await Task.WhenAll(up, down).WaitAsync(TimeSpan.FromSeconds(5), _stop.Token);
                    }

                    break;
                case ForwarderMode.Garbage:
                    await ReadRequestHeadAsync(client);
                    await client.SendAsync("\u0000\u0001 this is not HTTP \r\n\r\n{\"garbage"u8.ToArray(), _stop.Token);
                    client.Shutdown(SocketShutdown.Both);
                    break;
                case ForwarderMode.Hang:
                    await ReadRequestHeadAsync(client);
                    await Task.Delay(Timeout.Infinite, _stop.Token);
                    break;
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException or TimeoutException)
        {
            // Closed by either side, by a mode switch or by Dispose: the forwarder's own failures are the client's to see.
        }
        finally
        {
            client.Dispose();
        }
    }

    private async Task ReadRequestHeadAsync(Socket client)
    {
        byte[] buffer = new byte[8192];
        var head = new StringBuilder();
        while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
        {
            int read = await client.ReceiveAsync(buffer, _stop.Token);
            if (read == 0)
            {
                return;
            }

            head.Append(Encoding.Latin1.GetString(buffer, 0, read));
        }
    }

    private async Task PumpAsync(Socket from, Socket to)
    {
        byte[] buffer = new byte[16384];
        try
        {
            while (true)
            {
                int read = await from.ReceiveAsync(buffer, _stop.Token);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                await to.SendAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // One side closed; the other pump ends too once its socket is closed.
            from.Dispose();
            to.Dispose();
        }
    }

    private void Track(Socket socket)
    {
        lock (_gate)
        {
            _open.RemoveAll(static s => s.SafeHandle.IsClosed);
            _open.Add(socket);
        }
    }

    private void CloseOpenConnections()
    {
        Socket[] open;
        lock (_gate)
        {
            open = [.. _open];
            _open.Clear();
        }

        foreach (Socket socket in open)
        {
            socket.Dispose();
        }
    }
}
