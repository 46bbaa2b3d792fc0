using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace GracefulShutdown.Kubernetes.Testing.Tests;

/// <summary>
/// The real kubectl against the stand-in: discovery, get, list with a label selector, watch, 401, 403, 404, and the
/// Kubernetes project's recorded objects. Needs <c>kubectl</c> on PATH; without it the tests fail (never skip silently).
/// </summary>
[Trait("Category", "Process")]
public sealed class KubectlTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("kubectl-standin-").FullName;

    [Fact]
    public async Task GetPodAsJson_PrintsTheStoredObject()
    {
        await using var server = await KubernetesApiStandIn.StartAsync();
        JsonObject stored = server.Apply(Fixture.Pod("p1"));

        ChildProcess kubectl = await KubectlAsync(server, "get", "pod", "p1", "-n", "team", "-o", "json");

        Assert.True(kubectl.ExitCode == 0, kubectl.ToString());
        Assert.True(JsonNode.DeepEquals(stored, JsonNode.Parse(string.Join('\n', kubectl.StdoutLines))), kubectl.ToString());
        Log(server);
    }

    [Fact]
    public async Task GetEndpointSlicesByServiceLabel_ListsOnlyThatServicesSlices()
    {
        await using var server = await KubernetesApiStandIn.StartAsync();
        server.Apply(Fixture.Slice("web-abc", "web"));
        server.Apply(Fixture.Slice("api-abc", "api"));

        ChildProcess kubectl = await KubectlAsync(server, "get", "endpointslices", "-l", "kubernetes.io/service-name=web", "-o", "json");

        Assert.True(kubectl.ExitCode == 0, kubectl.ToString());
        JsonNode list = JsonNode.Parse(string.Join('\n', kubectl.StdoutLines))!;
        JsonNode item = Assert.Single(list["items"]!.AsArray())!;
        Assert.Equal("web-abc", item["metadata"]!["name"]!.GetValue<string>());
        Assert.Equal("10.1.0.7", item["endpoints"]![0]!["addresses"]![0]!.GetValue<string>());
        KubernetesApiCall call = Assert.Single(server.Calls, c => c.Resource == "endpointslices");
        Assert.Equal(("list", "team", "kubernetes.io/service-name=web"), (call.Verb, call.Namespace, call.QueryValue("labelSelector")));
        Log(server);
    }

    [Fact]
    public async Task WatchPods_PrintsEachChangeAsItHappens_AndEndsWhenTheServerEndsTheWatch()
    {
        await using var server = await KubernetesApiStandIn.StartAsync();
        server.Apply(Fixture.Pod("p1", phase: "Pending"));
        string kubeconfig = server.WriteKubeconfig(Path.Combine(_directory, "kubeconfig"), "team");
        await using ChildProcess kubectl = ChildProcess.Start("kubectl", Arguments(kubeconfig, "get", "pods", "--watch", "-o", "json", "--output-watch-events"));

        JsonNode initial = Event(await kubectl.WaitForLineAsync(l => l.Contains("\"p1\"", StringComparison.Ordinal)));
        await server.WaitForCallAsync(c => c.Verb == "watch" && c.Resource == "pods", Fixture.TimeoutToken());
        JsonObject running = server.Apply(Fixture.Pod("p1", phase: "Running"));
        JsonNode modified = Event(await kubectl.WaitForLineAsync(l => l.Contains("\"MODIFIED\"", StringComparison.Ordinal)));
        JsonObject added = server.Apply(Fixture.Pod("p2"));
        JsonNode addedEvent = Event(await kubectl.WaitForLineAsync(l => l.Contains("\"p2\"", StringComparison.Ordinal)));
        server.Delete("Pod", "team", "p2");
        JsonNode deleted = Event(await kubectl.WaitForLineAsync(l => l.Contains("\"DELETED\"", StringComparison.Ordinal)));
        server.DropWatches();
        await kubectl.WaitForExitAsync(Fixture.Timeout);

        Assert.Equal("ADDED", initial["type"]!.GetValue<string>());
        Assert.Equal(("MODIFIED", "Running"), (modified["type"]!.GetValue<string>(), modified["object"]!["status"]!["phase"]!.GetValue<string>()));
        Assert.True(JsonNode.DeepEquals(running, modified["object"]));
        Assert.True(JsonNode.DeepEquals(added, addedEvent["object"]));
        Assert.Equal(("DELETED", "p2"), (deleted["type"]!.GetValue<string>(), deleted["object"]!["metadata"]!["name"]!.GetValue<string>()));
        Assert.True(kubectl.ExitCode == 0, kubectl.ToString());
        KubernetesApiCall list = Assert.Single(server.Calls, c => c.Verb == "list" && c.Resource == "pods");
        KubernetesApiCall watch = Assert.Single(server.Calls, c => c.Verb == "watch" && c.Resource == "pods");
        Assert.Equal(initial["object"]!["metadata"]!["resourceVersion"]!.GetValue<string>(), watch.QueryValue("resourceVersion"));
        Assert.True(list.Sequence < watch.Sequence);
        Log(server);
    }

    [Fact]
    public async Task WrongToken_GivesKubectlsLoginError()
    {
        await using var server = await KubernetesApiStandIn.StartAsync();
        string kubeconfig = server.WriteKubeconfig(Path.Combine(_directory, "kubeconfig"), "team", "wrong-token");

        ChildProcess kubectl = await ChildProcess.RunAsync("kubectl", Arguments(kubeconfig, "get", "pod", "p1", "-o", "json"));

        Assert.Equal(1, kubectl.ExitCode);
        // kubectl 1.32 adds "(the server has asked for the client to provide credentials)", older ones "(Unauthorized)".
        Assert.Contains("error: You must be logged in to the server (", kubectl.Stderr, StringComparison.Ordinal);
        Assert.NotEmpty(server.Calls);
        Assert.All(server.Calls, c => Assert.Equal("discovery", c.Verb));
        Log(server);
    }

    [Fact]
    public async Task ForbiddenList_GivesKubectlsForbiddenError()
    {
        await using var server = await KubernetesApiStandIn.StartAsync(new KubernetesApiStandInOptions
        {
            Authorize = access => access.Resource != "endpointslices",
        });

        ChildProcess kubectl = await KubectlAsync(server, "get", "endpointslices", "-l", "kubernetes.io/service-name=web", "-o", "json");

        Assert.Equal(1, kubectl.ExitCode);
        Assert.Contains(
            "Error from server (Forbidden): endpointslices.discovery.k8s.io is forbidden: User \"system:serviceaccount:default:stand-in\" cannot list resource \"endpointslices\" in API group \"discovery.k8s.io\" in the namespace \"team\"",
            kubectl.Stderr,
            StringComparison.Ordinal);
        Log(server);
    }

    [Fact]
    public async Task MissingPod_GivesKubectlsNotFoundError()
    {
        await using var server = await KubernetesApiStandIn.StartAsync();

        ChildProcess kubectl = await KubectlAsync(server, "get", "pod", "nope", "-o", "json");

        Assert.Equal(1, kubectl.ExitCode);
        Assert.Contains("Error from server (NotFound): pods \"nope\" not found", kubectl.Stderr, StringComparison.Ordinal);
        Log(server);
    }

    [Theory]
    [InlineData("core.v1.Pod.json", "pod")]
    [InlineData("discovery.k8s.io.v1.EndpointSlice.json", "endpointslice")]
    public async Task RecordedUpstreamObjects_KubectlPrintsThemAsStored(string file, string resource)
    {
        await using var server = await KubernetesApiStandIn.StartAsync();
        JsonObject stored = server.Apply(Fixture.TestData(file));

        ChildProcess kubectl = await KubectlAsync(server, "get", resource, "nameValue", "-n", "namespaceValue", "-o", "json");

        // kubectl 1.21+ hides managedFields (the recorded objects carry them); everything else is printed as served.
        Assert.True(kubectl.ExitCode == 0, kubectl.ToString());
        JsonObject printed = JsonNode.Parse(string.Join('\n', kubectl.StdoutLines))!.AsObject();
        stored["metadata"]!.AsObject().Remove("managedFields");
        printed["metadata"]!.AsObject().Remove("managedFields");
        Assert.True(JsonNode.DeepEquals(stored, printed), kubectl.ToString());
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static JsonNode Event(string line) => JsonNode.Parse(line)!;

    private Task<ChildProcess> KubectlAsync(KubernetesApiStandIn server, params string[] arguments)
    {
        string kubeconfig = server.WriteKubeconfig(Path.Combine(_directory, "kubeconfig"), "team");
        return ChildProcess.RunAsync("kubectl", Arguments(kubeconfig, arguments));
    }

    // A private discovery cache per test, so no run reads another's (or the user's) ~/.kube/cache.
    private string[] Arguments(string kubeconfig, params string[] arguments) =>
        ["--kubeconfig", kubeconfig, "--cache-dir", Path.Combine(_directory, "cache"), .. arguments];

    private void Log(KubernetesApiStandIn server)
    {
        foreach (KubernetesApiCall call in server.Calls)
        {
            output.WriteLine($"{call} [{call.Verb}, {call.Protocol}] Accept: {call.Accept}");
        }
    }
}
