using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace GracefulShutdown.Testing.Processes;

/// <summary>
/// A sample app of this repository as a real child process on 127.0.0.1, with its log lines observable as events and real
/// signals. A test project derives its own <c>SampleProcess</c> with a start method and the clients it calls the sample with.
/// </summary>
/// <remarks>
/// The sample's dll comes from the <c>SampleDll</c> assembly metadata of the derived type's assembly, which <c>SampleDll.targets</c>
/// (next to this project) writes.
/// </remarks>
public abstract partial class SampleProcessBase : IAsyncDisposable
{
    /// <summary>The signal number of SIGINT (Ctrl+C).</summary>
    public const int SIGINT = 2;

    /// <summary>The signal number of SIGQUIT.</summary>
    public const int SIGQUIT = 3;

    /// <summary>The signal number of SIGTERM (what Kubernetes sends).</summary>
    public const int SIGTERM = 15;

    /// <summary>How long a wait lasts when no timeout is given.</summary>
    protected static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private const string LibraryCategory = "GracefulShutdown";
    private const string LifetimeCategory = "Microsoft.Hosting.Lifetime";
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly List<(Func<string, bool> Predicate, TaskCompletionSource<string> Done)> _waiters = [];
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Wraps a process that is not started yet; <see cref="StartProcessAsync"/> starts it.</summary>
    protected SampleProcessBase(Process process)
    {
        _process = process;
    }

    /// <summary>Gets the process id.</summary>
    public int Id => _process.Id;

    /// <summary>Gets the first address the server listens on (read back from its log, so port 0 works).</summary>
    public Uri? BaseAddress { get; protected set; }

    /// <summary>Gets every address the server listens on, in the order Kestrel logged them (event 14 of Microsoft.Hosting.Lifetime).</summary>
    public IReadOnlyList<Uri> Addresses { get; private set; } = [];

    /// <summary>Gets the lines written so far, standard output and standard error interleaved as they were read.</summary>
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

    /// <summary>Gets the lines written so far as one text, for assertion messages.</summary>
    public string Output => string.Join('\n', Lines);

    /// <summary>Gets a task that completes with the exit code once the process has exited and its output is read.</summary>
    protected Task<int> Exited => _exited.Task;

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

    /// <summary>
    /// Whether <paramref name="line"/> is an event of the given category (or a category below it) and event id. The simple
    /// console formatter writes "&lt;time&gt; &lt;level&gt;: &lt;category&gt;[&lt;event id&gt;] &lt;message&gt;".
    /// </summary>
    public static bool IsEvent(string line, string category, int eventId)
    {
        Match match = EventRegex().Match(line);
        return match.Success && int.Parse(match.Groups["id"].ValueSpan, CultureInfo.InvariantCulture) == eventId &&
            (match.Groups["category"].ValueSpan.Equals(category, StringComparison.Ordinal) ||
             match.Groups["category"].ValueSpan.StartsWith(category + ".", StringComparison.Ordinal));
    }

    /// <summary>Whether <paramref name="line"/> is an event of the library (a <c>GracefulShutdown*</c> category) with the given id.</summary>
    public static bool IsLibraryEvent(string line, int eventId) => IsEvent(line, LibraryCategory, eventId);

    /// <summary>Waits for a line that matches <paramref name="predicate"/>, among those written so far or the next ones.</summary>
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
    /// Waits for the <paramref name="occurrence"/>-th log line of the library (a <c>GracefulShutdown*</c> category) with the given
    /// event id, e.g. 100, that contains <paramref name="text"/> (a logged value such as a trigger or outcome, not message wording).
    /// </summary>
    public Task<string> WaitForEventAsync(int eventId, string text = "", int occurrence = 1)
    {
        // The predicate sees each line once, in order, so counting its matches finds the n-th occurrence.
        int seen = 0;
        return WaitForLineAsync(l => IsLibraryEvent(l, eventId) && l.Contains(text, StringComparison.Ordinal) && ++seen == occurrence);
    }

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

    /// <summary>How many lines of the library with the given event id were logged.</summary>
    public int CountEvents(int eventId) => Lines.Count(l => IsLibraryEvent(l, eventId));

    /// <summary>Sends a real signal, e.g. <see cref="SIGTERM"/>, to the process.</summary>
    public void Signal(int signal)
    {
        if (Kill(_process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>Waits for the process to exit, its output read to the end, and returns its exit code.</summary>
    public Task<int> WaitForExitAsync(TimeSpan? timeout = null) => WithContext(_exited.Task.WaitAsync(timeout ?? DefaultTimeout));

    /// <summary>Kills the process (and its children) unless it has exited, then releases it.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_exited.Task.IsCompleted)
        {
            _process.Kill(entireProcessTree: true);
            await _exited.Task.WaitAsync(DefaultTimeout);
        }

        _process.Dispose();
    }

    /// <summary>
    /// Starts <c>dotnet &lt;sample dll&gt;</c> on <paramref name="urls"/>, logging single lines with the simple console formatter
    /// (<paramref name="sampleCategory"/> at Debug), in Production and outside Kubernetes. Returns once the server listens and,
    /// with the library, once the app is ready (its warm-up requests hold readiness for a moment), unless
    /// <paramref name="waitUntilListening"/> is false.
    /// </summary>
    protected static async Task<TSample> StartProcessAsync<TSample>(Func<Process, TSample> create, string sampleCategory,
        IEnumerable<string>? arguments, IDictionary<string, string>? environment, string urls, bool waitUntilListening)
        where TSample : SampleProcessBase
    {
        string[] given = arguments?.ToArray() ?? [];
        string sampleDll = typeof(TSample).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
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
            $"--Logging:LogLevel:{sampleCategory}=Debug",
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
        TSample sample = create(process);
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

    /// <summary>The index of the first of <paramref name="lines"/> that matches <paramref name="match"/>, or -1.</summary>
    public static int IndexOf(IReadOnlyList<string> lines, Func<string, bool> match)
    {
        for (int i = 0; i < lines.Count; i++)
        {
            if (match(lines[i]))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>
    /// The index of the first of <paramref name="lines"/> that is the library's event <paramref name="eventId"/> and contains
    /// <paramref name="text"/> (a logged value such as a trigger or a work name, not message wording), or -1.
    /// </summary>
    public static int IndexOfEvent(IReadOnlyList<string> lines, int eventId, string text = "") =>
        IndexOf(lines, l => IsLibraryEvent(l, eventId) && l.Contains(text, StringComparison.Ordinal));

    /// <summary>
    /// Waits until the server listens (Kestrel's event 14 of Microsoft.Hosting.Lifetime) and returns the first address it logged,
    /// for a sample started with <c>waitUntilListening: false</c> that is not ready yet.
    /// </summary>
    public async Task<Uri> WaitUntilListeningAsync()
    {
        string line = await WaitForEventAsync(LifetimeCategory, 14);
        return ListeningAddress(line);
    }

    /// <summary>
    /// Waits until the server listens and, with <paramref name="useLibrary"/>, the app is ready; reads back
    /// <see cref="Addresses"/> and <see cref="BaseAddress"/>.
    /// </summary>
    protected async Task WaitUntilStartedAsync(bool useLibrary)
    {
        // Kestrel logs each bound address (event 14) before the host's "started" lines (event 0 of the same category); with the
        // library, readiness (event 5) follows the warm-up requests.
        await WaitForEventAsync(LifetimeCategory, 0);
        Addresses = [.. Lines.Where(l => IsEvent(l, LifetimeCategory, 14)).Select(ListeningAddress)];
        BaseAddress = Addresses[0];
        if (useLibrary)
        {
            await WaitForEventAsync(5);
        }
    }

    // Kestrel's "Now listening on: <address>" (event 14 of Microsoft.Hosting.Lifetime).
    private static Uri ListeningAddress(string line) => new(AddressRegex().Match(line).Value + "/");

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

    [GeneratedRegex(@"\b(?<level>trce|dbug|info|warn|fail|crit): (?<category>[^\s\[]+)\[(?<id>\d+)\]")]
    private static partial Regex EventRegex();

    [GeneratedRegex(@"https?://[^\s]+$")]
    private static partial Regex AddressRegex();

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int sig);
}
