using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Grpc.Net.Client;

namespace GracefulShutdown.Grpc.Tests.Integration;

/// <summary>
/// The gRPC sample as a real child process on 127.0.0.1, with its log lines observable as events and real signals.
/// </summary>
internal sealed partial class SampleProcess : IAsyncDisposable
{
    public const int SIGINT = 2;
    public const int SIGQUIT = 3;
    public const int SIGTERM = 15;

    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly List<(Func<string, bool> Predicate, TaskCompletionSource<string> Done)> _waiters = [];
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private SampleProcess(Process process)
    {
        _process = process;
    }

    public int Id => _process.Id;

    public Uri? BaseAddress { get; private set; }

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_gate)
            {
                return [.. _lines];
            }
        }
    }

    public string Output => string.Join('\n', Lines);

    /// <summary>
    /// Starts the sample. Returns once the server listens and, with the library, once the app is ready (its warm-up requests
    /// hold readiness for a moment), unless <paramref name="waitUntilListening"/> is false.
    /// </summary>
    public static async Task<SampleProcess> StartAsync(IEnumerable<string>? arguments = null, IDictionary<string, string>? environment = null,
        string urls = "http://127.0.0.1:0", bool waitUntilListening = true)
    {
        string[] given = arguments?.ToArray() ?? [];
        string sampleDll = typeof(SampleProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "SampleDll").Value!;
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(sampleDll)!,
        };
        start.ArgumentList.Add(Path.GetFullPath(sampleDll));
        foreach (string argument in (string[])
        [
            "--urls", urls,
            "--Logging:Console:FormatterName=simple",
            "--Logging:Console:FormatterOptions:SingleLine=true",
            "--Logging:Console:FormatterOptions:TimestampFormat=HH:mm:ss.fff ",
            "--Logging:LogLevel:GracefulShutdown.GrpcSample=Debug",
            .. given,
        ])
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment.Remove("KUBERNETES_SERVICE_HOST");
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach ((string key, string value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var sample = new SampleProcess(process);
        process.OutputDataReceived += (_, e) => sample.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => sample.OnLine(e.Data);
        process.Exited += (_, _) => sample.OnExited();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        if (waitUntilListening)
        {
            string line = await sample.WaitForLineAsync(l => l.Contains("Now listening on: ", StringComparison.Ordinal));
            sample.BaseAddress = new Uri(ListeningRegex().Match(line).Groups[1].Value + "/");
            if (!given.Contains("--Sample:UseLibrary=false"))
            {
                await sample.WaitForEventAsync(5, "Application is ready");
            }
        }

        return sample;
    }

    /// <summary>A free loopback port (for options such as the management port that need a fixed number).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

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

    public Task<string> WaitForLineAsync(Func<string, bool> predicate, TimeSpan? timeout = null)
    {
        var done = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            foreach (string line in _lines)
            {
                if (predicate(line))
                {
                    return Task.FromResult(line);
                }
            }

            _waiters.Add((predicate, done));
        }

        return WithContext(done.Task.WaitAsync(timeout ?? DefaultTimeout));
    }

    /// <summary>Waits for a log line of the given event id, e.g. <c>[100]</c>, that contains <paramref name="text"/>.</summary>
    public Task<string> WaitForEventAsync(int eventId, string text = "", int occurrence = 1)
    {
        // The predicate sees each line once, in order, so counting its matches finds the n-th occurrence.
        int seen = 0;
        return WaitForLineAsync(l => l.Contains($"[{eventId}]", StringComparison.Ordinal) && l.Contains(text, StringComparison.Ordinal)
            && ++seen == occurrence);
    }

    public int CountEvents(int eventId) => Lines.Count(l => l.Contains($"[{eventId}]", StringComparison.Ordinal) && l.Contains("GracefulShutdown", StringComparison.Ordinal));

    public void Signal(int signal)
    {
        if (kill(_process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    public Task<int> WaitForExitAsync(TimeSpan? timeout = null) => WithContext(_exited.Task.WaitAsync(timeout ?? DefaultTimeout));

    public async ValueTask DisposeAsync()
    {
        if (!_exited.Task.IsCompleted)
        {
            _process.Kill(entireProcessTree: true);
            await _exited.Task.WaitAsync(DefaultTimeout);
        }

        _process.Dispose();
    }

    private async Task<T> WithContext<T>(Task<T> task)
    {
        try
        {
            return await task;
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message} Output so far:\n{Output}", ex);
        }
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        List<TaskCompletionSource<string>> matched = [];
        lock (_gate)
        {
            _lines.Add(line);
            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Predicate(line))
                {
                    matched.Add(_waiters[i].Done);
                    _waiters.RemoveAt(i);
                }
            }
        }

        foreach (TaskCompletionSource<string> done in matched)
        {
            done.TrySetResult(line);
        }
    }

    private void OnExited()
    {
        // Exited can fire before the last output lines are read; WaitForExit() drains them.
        _process.WaitForExit();
        _exited.TrySetResult(_process.ExitCode);
    }

    public sealed class ConnectionCounter
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public void Increment() => Interlocked.Increment(ref _count);
    }

    [GeneratedRegex(@"Now listening on: (http://[^\s]+)")]
    private static partial Regex ListeningRegex();

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int sig);
}
