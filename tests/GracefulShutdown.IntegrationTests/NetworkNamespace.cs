using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;

namespace GracefulShutdown.IntegrationTests;

/// <summary>
/// A network namespace joined to this one by a veth pair, made for one test and always deleted: a caller inside it reaches
/// the app from a real non-loopback address, as kubelet does from the node. Addresses come from 198.18.0.0/15 (RFC 2544,
/// benchmarking), one /30 per instance: the host end gets .1 of the /30, the namespace end .2.
/// </summary>
internal sealed partial class NetworkNamespace : IAsyncDisposable
{
    private static int s_counter;
    private readonly List<string> _log = [];
    private bool _namespaceCreated;
    private bool _linkCreated;

    private NetworkNamespace(string name, string hostInterface, string namespaceInterface, IPAddress hostAddress, IPAddress namespaceAddress)
    {
        Name = name;
        HostInterface = hostInterface;
        NamespaceInterface = namespaceInterface;
        HostAddress = hostAddress;
        NamespaceAddress = namespaceAddress;
    }

    public string Name { get; }

    public string HostInterface { get; }

    public string NamespaceInterface { get; }

    /// <summary>Gets the address of the veth end in this (the app's) namespace: bind the app here.</summary>
    public IPAddress HostAddress { get; }

    /// <summary>Gets the address callers inside the namespace connect from.</summary>
    public IPAddress NamespaceAddress { get; }

    /// <summary>Gets why the namespace cannot be made here (not root, no <c>ip</c>, no <c>curl</c>), or null.</summary>
    public static string? WhyUnavailable()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "network namespaces need Linux";
        }

        if (geteuid() != 0)
        {
            return $"network namespaces need root (euid {geteuid()}); CI runs the tests as root";
        }

        if (FindOnPath("ip") is null)
        {
            return "the 'ip' command (iproute2) is not installed";
        }

        return FindOnPath("curl") is null ? "curl is not installed" : null;
    }

    /// <summary>Creates the namespace and the veth pair; on any failure, deletes what was made and throws with the commands' output.</summary>
    public static async Task<NetworkNamespace> CreateAsync()
    {
        int n = Interlocked.Increment(ref s_counter);
        string unique = $"{Environment.ProcessId % 100000:x}{n:x}{Random.Shared.Next(0x1000):x3}";
        int block = Random.Shared.Next(0, 2 * 256 * 64);  // /30 blocks in 198.18.0.0/15
        int baseAddress = (198 << 24) | (18 << 16) | (block * 4);
        var netns = new NetworkNamespace($"gs-test-{unique}", $"gsh{unique}", $"gsn{unique}", ToAddress(baseAddress + 1), ToAddress(baseAddress + 2));
        try
        {
            await netns.RunAsync("ip", "netns", "add", netns.Name);
            netns._namespaceCreated = true;
            await netns.RunAsync("ip", "link", "add", netns.HostInterface, "type", "veth", "peer", "name", netns.NamespaceInterface);
            netns._linkCreated = true;
            await netns.RunAsync("ip", "link", "set", netns.NamespaceInterface, "netns", netns.Name);
            await netns.RunAsync("ip", "addr", "add", $"{netns.HostAddress}/30", "dev", netns.HostInterface);
            await netns.RunAsync("ip", "link", "set", netns.HostInterface, "up");
            await netns.RunAsync("ip", "netns", "exec", netns.Name, "ip", "addr", "add", $"{netns.NamespaceAddress}/30", "dev", netns.NamespaceInterface);
            await netns.RunAsync("ip", "netns", "exec", netns.Name, "ip", "link", "set", netns.NamespaceInterface, "up");
            await netns.RunAsync("ip", "netns", "exec", netns.Name, "ip", "link", "set", "lo", "up");
            return netns;
        }
        catch
        {
            await netns.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs curl inside the namespace. Returns the status code (0 if no HTTP answer) and the body.</summary>
    public async Task<(int StatusCode, string Body)> CurlAsync(Uri url, params string[] headers)
    {
        List<string> arguments = ["netns", "exec", Name, "curl", "-sS", "--max-time", "10", "-o", "-", "-w", "\n%{http_code}"];
        foreach (string header in headers)
        {
            arguments.Add("-H");
            arguments.Add(header);
        }

        arguments.Add(url.ToString());
        (int exitCode, string stdout, string stderr) = await ExecAsync("ip", [.. arguments]);
        int newline = stdout.LastIndexOf('\n');
        string body = newline < 0 ? "" : stdout[..newline];
        int status = int.TryParse(stdout[(newline + 1)..].Trim(), out int code) ? code : 0;
        if (exitCode != 0 && status == 0)
        {
            throw new InvalidOperationException($"curl in {Name} failed ({exitCode}): {stderr}");
        }

        return (status, body);
    }

    public async ValueTask DisposeAsync()
    {
        // Deleting one end deletes the pair; deleting the namespace would too, but only once nothing holds it.
        if (_linkCreated)
        {
            await ExecAsync("ip", "link", "del", HostInterface);
        }

        if (_namespaceCreated)
        {
            await ExecAsync("ip", "netns", "del", Name);
        }
    }

    /// <summary>Whether an interface or namespace of this instance is still present (for the cleanup assertion).</summary>
    public async Task<bool> AnyLeftAsync()
    {
        (_, string links, _) = await ExecAsync("ip", "-o", "link", "show");
        (_, string namespaces, _) = await ExecAsync("ip", "netns", "list");
        return links.Contains(HostInterface, StringComparison.Ordinal) || namespaces.Contains(Name, StringComparison.Ordinal);
    }

    public override string ToString() =>
        $"netns {Name}: {HostInterface} {HostAddress}/30 (app side) <-> {NamespaceInterface} {NamespaceAddress}/30 (caller side)";

    private async Task RunAsync(string file, params string[] arguments)
    {
        (int exitCode, _, string stderr) = await ExecAsync(file, arguments);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"'{file} {string.Join(' ', arguments)}' failed ({exitCode}): {stderr}\n{string.Join('\n', _log)}");
        }
    }

    private async Task<(int ExitCode, string Stdout, string Stderr)> ExecAsync(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file == "ip" ? FindOnPath("ip") ?? "ip" : file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        _log.Add($"{file} {string.Join(' ', arguments)} -> {process.ExitCode}");
        return (process.ExitCode, await stdout, await stderr);
    }

    private static IPAddress ToAddress(int value) =>
        new([(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value]);

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Append("/usr/sbin").Append("/sbin")
            .Select(dir => Path.Combine(dir, name)).FirstOrDefault(File.Exists);

    [LibraryImport("libc")]
    private static partial uint geteuid();
}
