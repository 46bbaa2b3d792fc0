using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace GracefulShutdown.IntegrationTests;

/// <summary>
/// The sample app as a real child process on 127.0.0.1, with its log lines observable as events and real signals.
/// </summary>
internal sealed partial class SampleProcess : IAsyncDisposable
{
    public const int SIGINT = 2;
    public const int SIGQUIT = 3;
    public const int SIGTERM = 15;

    private const string LibraryCategory = "GracefulShutdown";
    private const string LifetimeCategory = "Microsoft.Hosting.Lifetime";
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

    /// <summary>Gets the first address the server listens on (read back from its log, so port 0 works).</summary>
    public Uri? BaseAddress { get; private set; }

    /// <summary>Gets every address the server listens on, in the order Kestrel logged them (event 14 of Microsoft.Hosting.Lifetime).</summary>
    public IReadOnlyList<Uri> Addresses { get; private set; } = [];

    /// <summary>Gets the management port's address when started with <see cref="StartWithManagementPortAsync"/>.</summary>
    public Uri? ManagementAddress { get; private set; }

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
            "--Logging:LogLevel:GracefulShutdown.Sample=Debug",
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
            await sample.WaitUntilStartedAsync(useLibrary: !given.Contains("--Sample:UseLibrary=false"));
        }

        return sample;
    }

    /// <summary>
    /// Starts the sample with <c>GracefulShutdown:ManagementPort</c> set: the app port is port 0, read back; the management
    /// port has to be a number in the options before the server binds, so it is chosen free and, should another process take it
    /// before the sample binds it, chosen again (the sample then exits with an <c>AddressInUseException</c>).
    /// </summary>
    public static async Task<SampleProcess> StartWithManagementPortAsync(IEnumerable<string>? arguments = null,
        IDictionary<string, string>? environment = null)
    {
        const int Attempts = 5;
        string[] given = arguments?.ToArray() ?? [];
        for (int attempt = 1; ; attempt++)
        {
            int managementPort = FreePort();
            SampleProcess sample = await StartAsync([.. given, $"--GracefulShutdown:ManagementPort={managementPort}"], environment,
                urls: $"http://127.0.0.1:0;http://127.0.0.1:{managementPort}", waitUntilListening: false);
            Task started = sample.WaitUntilStartedAsync(useLibrary: true);
            if (await Task.WhenAny(started, sample._exited.Task) == sample._exited.Task && attempt < Attempts &&
                sample.Output.Contains("AddressInUseException", StringComparison.Ordinal))
            {
                await sample.DisposeAsync();
                continue;
            }

            await started;
            sample.ManagementAddress = sample.Addresses.Single(a => a.Port == managementPort);
            sample.BaseAddress = sample.Addresses.First(a => a.Port != managementPort);
            return sample;
        }
    }

    /// <summary>
    /// A loopback port that was free a moment ago. Prefer port 0 and <see cref="Addresses"/>: another process can take this
    /// port before the sample binds it. Only for options that need a number before the server starts.
    /// </summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static HttpClient CreateClient(Uri baseAddress) =>
        new(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = baseAddress, Timeout = DefaultTimeout };

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

    /// <summary>
    /// Waits for a log line of the library (a <c>GracefulShutdown*</c> category) with the given event id, e.g. 100, that contains
    /// <paramref name="text"/> (a logged value such as a trigger or outcome, not message wording).
    /// </summary>
    public Task<string> WaitForEventAsync(int eventId, string text = "") =>
        WaitForLineAsync(l => IsLibraryEvent(l, eventId) && l.Contains(text, StringComparison.Ordinal));

    /// <summary>Waits for a log line of the given category (or a category below it) and event id.</summary>
    public Task<string> WaitForEventAsync(string category, int eventId, TimeSpan? timeout = null) =>
        WaitForLineAsync(l => IsEvent(l, category, eventId), timeout);

    /// <summary>Whether the library logged the given event id in a line that contains <paramref name="text"/>.</summary>
    public bool HasEvent(int eventId, string text = "") => Lines.Any(l => IsLibraryEvent(l, eventId) && l.Contains(text, StringComparison.Ordinal));

    /// <summary>Whether a line of the given category (or a category below it) and event id was logged.</summary>
    public bool HasEvent(string category, int eventId) => Lines.Any(l => IsEvent(l, category, eventId));

    /// <summary>The log level (<c>info</c>, <c>warn</c>…) of the library's first line with the given event id, or null.</summary>
    public string? EventLevel(int eventId) =>
        Lines.Where(l => IsLibraryEvent(l, eventId)).Select(l => EventRegex().Match(l).Groups["level"].Value).FirstOrDefault();

    public int CountEvents(int eventId) => Lines.Count(l => IsLibraryEvent(l, eventId));

    public void Signal(int signal)
    {
        if (Kill(_process.Id, signal) != 0)
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

    // The simple console formatter writes "<time> <level>: <category>[<event id>] <message>".
    private static bool IsEvent(string line, string category, int eventId)
    {
        Match match = EventRegex().Match(line);
        return match.Success && int.Parse(match.Groups["id"].ValueSpan, CultureInfo.InvariantCulture) == eventId &&
            (match.Groups["category"].ValueSpan.Equals(category, StringComparison.Ordinal) ||
             match.Groups["category"].ValueSpan.StartsWith(category + ".", StringComparison.Ordinal));
    }

    private static bool IsLibraryEvent(string line, int eventId) => IsEvent(line, LibraryCategory, eventId);

    // Kestrel logs each bound address (event 14) before the host's "started" lines (event 0 of the same category); with the
    // library, readiness (event 5) follows the warm-up requests.
    private async Task WaitUntilStartedAsync(bool useLibrary)
    {
        await WaitForEventAsync(LifetimeCategory, 0);
        Addresses = [.. Lines.Where(l => IsEvent(l, LifetimeCategory, 14)).Select(l => new Uri(AddressRegex().Match(l).Value + "/"))];
        BaseAddress = Addresses[0];
        if (useLibrary)
        {
            await WaitForEventAsync(5);
        }
    }

    [GeneratedRegex(@"\b(?<level>trce|dbug|info|warn|fail|crit): (?<category>[^\s\[]+)\[(?<id>\d+)\]")]
    private static partial Regex EventRegex();

    [GeneratedRegex(@"https?://[^\s]+$")]
    private static partial Regex AddressRegex();

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int sig);
}
