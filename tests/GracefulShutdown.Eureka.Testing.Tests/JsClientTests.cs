using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json;

namespace GracefulShutdown.Eureka.Testing.Tests;

/// <summary>
/// A real third-party client, the npm package <c>eureka-js-client</c>, against the stand-in. Needs Node.js and npm
/// on PATH; without them the test fails (it never skips silently). <c>js-client/</c> holds the script and lock file.
/// </summary>
[Trait("Category", "Process")]
public sealed class JsClientTests
{
    private static readonly TimeSpan s_npmTimeout = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan s_scriptTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task EurekaJsClient_RegistersHeartbeatsFetchesAndDeregisters()
    {
        string directory = Fixture.JsClientDirectory();
        await EnsureNodeModulesAsync(directory);
        await using var eureka = await EurekaServerStandIn.StartAsync();

        ProcessResult result = await RunAsync("node", [Path.Combine(directory, "script.js"), eureka.BaseUri.ToString(), "2"], directory, s_scriptTimeout);

        Assert.True(result.ExitCode == 0, $"node script.js exited {result.ExitCode}.{Environment.NewLine}{result}{Environment.NewLine}Calls:{Environment.NewLine}{string.Join(Environment.NewLine, eureka.Calls)}");
        IReadOnlyList<EurekaCall> calls = eureka.Calls;
        EurekaCall register = Assert.Single(calls, c => c.Operation == EurekaOperation.Register);
        Assert.Equal(204, register.StatusCode);
        Assert.Equal("JSCLIENT", register.AppName);
        Assert.True(calls.Count(c => c.Operation == EurekaOperation.Heartbeat && c.StatusCode == 200 && c.InstanceId == "js-client-1") >= 2);
        EurekaCall fetch = Assert.Single(calls, c => c.Operation == EurekaOperation.GetApplications);
        Assert.Equal(200, fetch.StatusCode);
        Assert.Contains("json", fetch.Accept, StringComparison.Ordinal);
        EurekaCall cancel = Assert.Single(calls, c => c.Operation == EurekaOperation.Cancel);
        Assert.Equal(200, cancel.StatusCode);
        Assert.Equal("js-client-1", cancel.InstanceId);
        Assert.Equal(cancel, calls.MaxBy(c => c.Sequence));
        Assert.Null(eureka.GetInstance("JSCLIENT", "js-client-1"));

        // What the client parsed out of the stand-in's (gzipped) registry JSON.
        string fetched = Assert.Single(result.StdoutLines, l => l.StartsWith("FETCHED ", StringComparison.Ordinal))["FETCHED ".Length..];
        using var parsed = JsonDocument.Parse(fetched);
        JsonElement instance = Assert.Single(parsed.RootElement.GetProperty("instances").EnumerateArray());
        Assert.Equal("js-client-1", instance.GetProperty("instanceId").GetString());
        Assert.Equal("JSCLIENT", instance.GetProperty("app").GetString());
        Assert.Equal("UP", instance.GetProperty("status").GetString());
        Assert.Equal(3000, instance.GetProperty("port").GetInt32());
        Assert.Equal(1, parsed.RootElement.GetProperty("byVip").GetInt32());
        Assert.Contains("DONE", result.StdoutLines);
    }

    private static async Task EnsureNodeModulesAsync(string directory)
    {
        if (File.Exists(Path.Combine(directory, "node_modules", "eureka-js-client", "package.json")))
        {
            return;
        }

        string npm = OperatingSystem.IsWindows() ? "npm.cmd" : "npm";
        ProcessResult install = await RunAsync(npm, ["ci", "--no-audit", "--no-fund"], directory, s_npmTimeout);
        Assert.True(install.ExitCode == 0, $"'npm ci' in {directory} failed with exit code {install.ExitCode}.{Environment.NewLine}{install}");
    }

    private static async Task<ProcessResult> RunAsync(string fileName, IEnumerable<string> arguments, string workingDirectory, TimeSpan timeout)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = new Process { StartInfo = startInfo };
        try
        {
            process.Start();
        }
        catch (Win32Exception ex)
        {
            Assert.Fail($"Could not start '{fileName}': {ex.Message}. This test needs Node.js 20+ and npm on PATH (the eureka-js-client check runs in CI).");
        }

        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            // Only the process this test started, by its handle.
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Assert.Fail($"'{fileName} {string.Join(' ', arguments)}' did not finish within {timeout}.{Environment.NewLine}{await stdout}{Environment.NewLine}{await stderr}");
        }

        return new ProcessResult(process.ExitCode, await stdout, await stderr);
    }

    private sealed record ProcessResult(int ExitCode, string Stdout, string Stderr)
    {
        public IReadOnlyList<string> StdoutLines => Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        public override string ToString() => $"stdout:{Environment.NewLine}{Stdout}{Environment.NewLine}stderr:{Environment.NewLine}{Stderr}";
    }
}
