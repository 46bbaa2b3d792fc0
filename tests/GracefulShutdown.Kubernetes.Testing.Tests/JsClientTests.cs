using System.Globalization;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace GracefulShutdown.Kubernetes.Testing.Tests;

/// <summary>
/// A real third-party client, the npm package <c>@kubernetes/client-node</c> (its informers, raw <c>Watch</c> and
/// typed API), against the stand-in. Needs Node.js 20.18+ and npm on PATH; without them the tests fail (never skip
/// silently). <c>js-client/</c> holds the script and the lock file; <c>npm ci</c> runs on first use.
/// </summary>
[Trait("Category", "Process")]
public sealed class JsClientTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan s_npmTimeout = TimeSpan.FromMinutes(5);
    private static readonly SemaphoreSlim s_install = new(1, 1);
    private readonly string _directory = Directory.CreateTempSubdirectory("client-node-standin-").FullName;

    [Fact]
    public async Task Informers_SeeChangesInOrder_ResumeAfterDroppedWatches_RelistOn410_AndTheRawWatchGetsBookmarks()
    {
        string script = await ScriptAsync();
        await using var server = await KubernetesApiStandIn.StartAsync();
        JsonObject p1 = server.Apply(Fixture.Pod("p1", phase: "Pending"));
        JsonObject web = server.Apply(Fixture.Slice("web-1", "web"));
        server.Apply(Fixture.Slice("api-1", "api"));
        string kubeconfig = server.WriteKubeconfig(Path.Combine(_directory, "kubeconfig"), "team");
        await using ChildProcess node = ChildProcess.Start("node", [script, "informers", kubeconfig, "team", "web"], Path.GetDirectoryName(script));
        CancellationToken timeout = Fixture.TimeoutToken();

        // The initial list.
        await node.WaitForLineAsync("READY");
        Assert.Contains($"POD ADDED p1 {Rv(p1)} Pending", node.StdoutLines);
        Assert.Contains($"SLICE ADDED web-1 {Rv(web)} 10.1.0.7:true", node.StdoutLines);
        Assert.DoesNotContain(node.StdoutLines, l => l.StartsWith("SLICE ADDED api-1", StringComparison.Ordinal));

        // Changes arrive over the watch, in order.
        await server.WaitForCallAsync(c => c.Verb == "watch" && c.Resource == "pods" && c.QueryValue("allowWatchBookmarks") is null, timeout);
        await server.WaitForCallAsync(c => c.Verb == "watch" && c.Resource == "endpointslices", timeout);
        JsonObject running = server.Apply(Fixture.Pod("p1", phase: "Running"));
        JsonObject p2 = server.Apply(Fixture.Pod("p2"));
        server.Delete("Pod", "team", "p2");
        string deletedRv = server.ResourceVersion.ToString(CultureInfo.InvariantCulture);
        JsonObject notReady = server.Apply(Fixture.Slice("web-1", "web", ready: false));
        await node.WaitForLineAsync($"POD DELETED p2 {deletedRv}");
        await node.WaitForLineAsync($"SLICE UPDATED web-1 {Rv(notReady)} 10.1.0.7:false");
        List<string> lines = [.. node.StdoutLines];
        int updated = lines.IndexOf($"POD UPDATED p1 {Rv(running)} Running");
        int added = lines.IndexOf($"POD ADDED p2 {Rv(p2)} Running");
        int deleted = lines.IndexOf($"POD DELETED p2 {deletedRv} Running");
        Assert.True(updated >= 0 && updated < added && added < deleted, node.ToString());

        // The raw watch asked for bookmarks and gets one at the current resourceVersion.
        await node.WaitForLineAsync($"RAW BOOKMARK - {server.ResourceVersion}");

        // Dropped watches: the informers watch again from the last resourceVersion they saw, without a relist.
        long beforeDrop = server.Calls[^1].Sequence;
        server.DropWatches();
        KubernetesApiCall rewatch = await server.WaitForCallAsync(
            c => c.Sequence > beforeDrop && c.Verb == "watch" && c.Resource == "pods" && c.QueryValue("allowWatchBookmarks") is null, timeout);
        JsonObject p3 = server.Apply(Fixture.Pod("p3"));
        await node.WaitForLineAsync($"POD ADDED p3 {Rv(p3)} Running");
        Assert.Equal(deletedRv, rewatch.QueryValue("resourceVersion"));
        Assert.DoesNotContain(server.Calls, c => c.Sequence > beforeDrop && c.Verb == "list");

        // A write elsewhere moves the global resourceVersion past what the pod informer saw; after compaction its
        // watch from that resourceVersion gets 410 Expired, and it lists again.
        server.Apply(Fixture.Pod("elsewhere", ns: "other"));
        server.CompactBefore(server.ResourceVersion);
        long beforeCompaction = server.Calls[^1].Sequence;
        server.DropWatches();
        KubernetesApiCall relist = await server.WaitForCallAsync(c => c.Sequence > beforeCompaction && c.Verb == "list" && c.Resource == "pods", timeout);
        KubernetesApiCall freshWatch = await server.WaitForCallAsync(
            c => c.Sequence > relist.Sequence && c.Verb == "watch" && c.Resource == "pods" && c.QueryValue("allowWatchBookmarks") is null, timeout);
        JsonObject p4 = server.Apply(Fixture.Pod("p4"));
        await node.WaitForLineAsync($"POD ADDED p4 {Rv(p4)} Running");
        KubernetesApiCall expired = Assert.Single(server.Calls, c => c.Sequence > beforeCompaction && c.Sequence < relist.Sequence && c.Verb == "watch" && c.Resource == "pods" && c.QueryValue("allowWatchBookmarks") is null);
        Assert.Equal(Rv(p3), expired.QueryValue("resourceVersion"));
        Assert.Equal((server.ResourceVersion - 1).ToString(CultureInfo.InvariantCulture), freshWatch.QueryValue("resourceVersion"));

        node.CloseInput();
        await node.WaitForExitAsync(Fixture.Timeout);
        Assert.True(node.ExitCode == 0, node.ToString());
        Assert.Contains("DONE", node.StdoutLines);
        Assert.DoesNotContain(node.StdoutLines, l => l.StartsWith("ERROR ", StringComparison.Ordinal));
        Log(server, node);
    }

    [Fact]
    public async Task TypedApi_ParsesTheRecordedUpstreamObjects()
    {
        string script = await ScriptAsync();
        await using var server = await KubernetesApiStandIn.StartAsync();
        JsonObject pod = server.Apply(Fixture.TestData("core.v1.Pod.json"));
        JsonObject slice = server.Apply(Fixture.TestData("discovery.k8s.io.v1.EndpointSlice.json"));
        string kubeconfig = server.WriteKubeconfig(Path.Combine(_directory, "kubeconfig"));

        ChildProcess node = await ChildProcess.RunAsync("node", [script, "read", kubeconfig, "namespaceValue", "nameValue", "namespaceValue", "nameValue"], Path.GetDirectoryName(script));

        Assert.True(node.ExitCode == 0, node.ToString());
        JsonNode parsedPod = JsonNode.Parse(node.StdoutLines.Single(l => l.StartsWith("POD ", StringComparison.Ordinal))[4..])!;
        JsonNode parsedSlice = JsonNode.Parse(node.StdoutLines.Single(l => l.StartsWith("SLICE ", StringComparison.Ordinal))[6..])!;
        foreach (string path in new[] { "metadata.uid", "metadata.resourceVersion", "metadata.labels.labelsKey", "spec.containers.0.name", "spec.containers.0.image", "spec.volumes.0.hostPath.path", "status.phase", "status.podIP" })
        {
            Assert.Equal(At(pod, path), At(parsedPod, path));
        }

        foreach (string path in new[] { "metadata.uid", "addressType", "endpoints.0.addresses.0", "endpoints.0.nodeName", "ports.0.name" })
        {
            Assert.Equal(At(slice, path), At(parsedSlice, path));
        }

        Assert.Equal(slice["ports"]![0]!["port"]!.GetValue<int>(), parsedSlice["ports"]![0]!["port"]!.GetValue<int>());
        Log(server, node);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static string Rv(JsonObject obj) => obj["metadata"]!["resourceVersion"]!.GetValue<string>();

    private static string? At(JsonNode node, string path)
    {
        JsonNode? current = node;
        foreach (string part in path.Split('.'))
        {
            current = int.TryParse(part, out int index) ? current?.AsArray()[index] : current?[part];
        }

        return current?.GetValue<string>();
    }

    private static async Task<string> ScriptAsync()
    {
        string directory = Fixture.JsClientDirectory();
        await s_install.WaitAsync();
        try
        {
            if (!File.Exists(Path.Combine(directory, "node_modules", "@kubernetes", "client-node", "package.json")))
            {
                string npm = OperatingSystem.IsWindows() ? "npm.cmd" : "npm";
                ChildProcess install = await ChildProcess.RunAsync(npm, ["ci", "--no-audit", "--no-fund"], directory, s_npmTimeout);
                Assert.True(install.ExitCode == 0, $"'npm ci' in {directory} failed with exit code {install.ExitCode}.{Environment.NewLine}{install}");
            }
        }
        finally
        {
            s_install.Release();
        }

        return Path.Combine(directory, "script.mjs");
    }

    private void Log(KubernetesApiStandIn server, ChildProcess node)
    {
        foreach (KubernetesApiCall call in server.Calls)
        {
            output.WriteLine($"{call} [{call.Verb}, {call.Protocol}] Accept: {call.Accept} UA: {call.UserAgent}");
        }

        output.WriteLine(node.ToString());
    }
}
