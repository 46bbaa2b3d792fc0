using System.ComponentModel;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Reflection;
using System.Text.Json.Nodes;

namespace GracefulShutdown.Kubernetes.Testing.Tests;

internal static class Fixture
{
    /// <summary>How long any single wait in these tests may take before it fails (never a sleep).</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static CancellationToken TimeoutToken() => new CancellationTokenSource(Timeout).Token;

    public static JsonObject TestData(string name) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", name)))!.AsObject();

    public static string JsClientDirectory() =>
        typeof(Fixture).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "JsClientDirectory").Value!;

    public static JsonObject Pod(string name, string ns = "team", string phase = "Running", string app = "web") => new()
    {
        ["apiVersion"] = "v1",
        ["kind"] = "Pod",
        ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns, ["labels"] = new JsonObject { ["app"] = app } },
        ["spec"] = new JsonObject
        {
            ["nodeName"] = "node-1",
            ["containers"] = new JsonArray(new JsonObject { ["name"] = "app", ["image"] = "example/app:1" }),
        },
        ["status"] = new JsonObject { ["phase"] = phase, ["podIP"] = "10.1.0.7" },
    };

    public static JsonObject Slice(string name, string service, bool ready = true, string ns = "team", string address = "10.1.0.7") => new()
    {
        ["apiVersion"] = "discovery.k8s.io/v1",
        ["kind"] = "EndpointSlice",
        ["metadata"] = new JsonObject
        {
            ["name"] = name,
            ["namespace"] = ns,
            ["labels"] = new JsonObject { ["kubernetes.io/service-name"] = service },
        },
        ["addressType"] = "IPv4",
        ["endpoints"] = new JsonArray(new JsonObject
        {
            ["addresses"] = new JsonArray(address),
            ["conditions"] = new JsonObject { ["ready"] = ready, ["serving"] = ready, ["terminating"] = !ready },
            ["targetRef"] = new JsonObject { ["kind"] = "Pod", ["namespace"] = ns, ["name"] = "p1" },
        }),
        ["ports"] = new JsonArray(new JsonObject { ["name"] = "http", ["port"] = 8080, ["protocol"] = "TCP" }),
    };

    /// <summary>The object without the fields the server owns (uid, resourceVersion, creationTimestamp).</summary>
    public static JsonObject WithoutServerFields(JsonObject obj)
    {
        JsonObject copy = obj.DeepClone().AsObject();
        JsonObject metadata = copy["metadata"]!.AsObject();
        metadata.Remove("uid");
        metadata.Remove("resourceVersion");
        metadata.Remove("creationTimestamp");
        return copy;
    }
}

/// <summary>An <see cref="HttpClient"/> for the stand-in that trusts its CA and sends its token.</summary>
internal sealed class ApiClient : IDisposable
{
    private readonly HttpClient _client;

    public ApiClient(KubernetesApiStandIn server, string? token = null)
    {
        _client = new HttpClient(server.CreateHttpMessageHandler()) { BaseAddress = server.BaseAddress, Timeout = Fixture.Timeout };
        _client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token ?? server.Token);
    }

    public HttpClient Http => _client;

    public async Task<(int Status, JsonNode? Body, string Text)> GetAsync(string relative)
    {
        using HttpResponseMessage response = await _client.GetAsync(relative);
        string text = await response.Content.ReadAsStringAsync();
        JsonNode? body = null;
        try
        {
            body = JsonNode.Parse(text);
        }
        catch (System.Text.Json.JsonException)
        {
        }

        return ((int)response.StatusCode, body, text);
    }

    /// <summary>Opens a watch and returns once its headers arrived (the watch is registered by then).</summary>
    public async Task<WatchReader> WatchAsync(string relative)
    {
        HttpResponseMessage response = await _client.GetAsync(relative, HttpCompletionOption.ResponseHeadersRead);
        return new WatchReader(response, new StreamReader(await response.Content.ReadAsStreamAsync()));
    }

    public void Dispose() => _client.Dispose();
}

internal sealed class WatchReader(HttpResponseMessage response, StreamReader reader) : IDisposable
{
    public HttpResponseMessage Response => response;

    /// <summary>The next event, or <see langword="null"/> when the server ended the stream.</summary>
    public async Task<JsonObject?> NextAsync()
    {
        string? line = await reader.ReadLineAsync(Fixture.TimeoutToken());
        return line is null ? null : JsonNode.Parse(line)!.AsObject();
    }

    public async Task<string?> NextLineAsync() => await reader.ReadLineAsync(Fixture.TimeoutToken());

    public void Dispose()
    {
        reader.Dispose();
        response.Dispose();
    }
}

/// <summary>
/// A child process whose stdout lines can be awaited as they arrive (no polling). Disposing kills it (only this
/// process tree, by its handle) if it is still running.
/// </summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly List<string> _stdout = [];
    private readonly List<string> _stderr = [];
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Completion)> _waiters = [];
    private readonly Process _process;
    private readonly string _commandLine;

    private ChildProcess(Process process, string commandLine)
    {
        _process = process;
        _commandLine = commandLine;
    }

    public IReadOnlyList<string> StdoutLines
    {
        get { lock (_gate) { return [.. _stdout]; } }
    }

    public string Stderr
    {
        get { lock (_gate) { return string.Join(Environment.NewLine, _stderr); } }
    }

    public int ExitCode => _process.ExitCode;

    public static ChildProcess Start(string fileName, IEnumerable<string> arguments, string? workingDirectory = null)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        var child = new ChildProcess(process, $"{fileName} {string.Join(' ', startInfo.ArgumentList)}");
        process.OutputDataReceived += (_, e) => child.OnStdout(e.Data);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (child._gate)
                {
                    child._stderr.Add(e.Data);
                }
            }
        };
        try
        {
            process.Start();
        }
        catch (Win32Exception ex)
        {
            Assert.Fail($"Could not start '{fileName}': {ex.Message}. This test needs it on PATH.");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Runs to completion and returns the exit code (stdout/stderr are then in the properties).</summary>
    public static async Task<ChildProcess> RunAsync(string fileName, IEnumerable<string> arguments, string? workingDirectory = null, TimeSpan? timeout = null)
    {
        ChildProcess child = Start(fileName, arguments, workingDirectory);
        child._process.StandardInput.Close();
        await child.WaitForExitAsync(timeout ?? Fixture.Timeout);
        return child;
    }

    /// <summary>Returns the first stdout line (already printed or yet to come) that matches.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan? timeout = null)
    {
        var completion = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            string? seen = _stdout.FirstOrDefault(match);
            if (seen is not null)
            {
                return seen;
            }

            _waiters.Add((match, completion));
        }

        try
        {
            return await completion.Task.WaitAsync(timeout ?? Fixture.Timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"'{_commandLine}' printed no matching line in time.{Environment.NewLine}{this}");
        }
    }

    public Task<string> WaitForLineAsync(string prefix) => WaitForLineAsync(l => l.StartsWith(prefix, StringComparison.Ordinal));

    public void CloseInput() => _process.StandardInput.Close();

    public async Task WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
            Assert.Fail($"'{_commandLine}' did not finish within {timeout}.{Environment.NewLine}{this}");
        }
    }

    public override string ToString() =>
        $"stdout:{Environment.NewLine}{string.Join(Environment.NewLine, StdoutLines)}{Environment.NewLine}stderr:{Environment.NewLine}{Stderr}";

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // Only the process this test started, by its handle.
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void OnStdout(string? line)
    {
        if (line is null)
        {
            return;
        }

        List<TaskCompletionSource<string>> matched = [];
        lock (_gate)
        {
            _stdout.Add(line);
            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Match(line))
                {
                    matched.Add(_waiters[i].Completion);
                    _waiters.RemoveAt(i);
                }
            }
        }

        foreach (TaskCompletionSource<string> completion in matched)
        {
            completion.TrySetResult(line);
        }
    }
}
