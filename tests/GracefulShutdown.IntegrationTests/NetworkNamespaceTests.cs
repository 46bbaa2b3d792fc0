using System.Net;
using Xunit.Abstractions;

namespace GracefulShutdown.IntegrationTests;

/// <summary>
/// A real caller from another address, as kubelet calls from the node: curl inside a network namespace the test makes (veth
/// pair, 198.18.0.0/15), against the sample bound to the root-side veth address (and 127.0.0.1 for readiness checks).
/// Needs root and iproute2; skipped with the reason printed otherwise.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class NetworkNamespaceTests(ITestOutputHelper output)
{
    private static readonly Dictionary<string, string> InKubernetes = new() { ["KUBERNETES_SERVICE_HOST"] = "10.96.0.1" };

    private static readonly string[] FastWait =
    [
        "--GracefulShutdown:TrafficWait:Minimum=00:00:00.300",
        "--GracefulShutdown:TrafficWait:QuietPeriod=00:00:00.300",
        "--GracefulShutdown:TrafficWait:Maximum=00:00:03",
    ];

    private async Task<NetworkNamespace> CreateNamespaceAsync()
    {
        string? why = NetworkNamespace.WhyUnavailable();
        if (why is not null)
        {
            output.WriteLine($"SKIPPED: {why}");
            Console.WriteLine($"NetworkNamespaceTests skipped: {why}");
        }

        Skip.If(why is not null, why);
        NetworkNamespace netns = await NetworkNamespace.CreateAsync();
        output.WriteLine(netns.ToString());
        return netns;
    }

    private static Task<SampleProcess> StartOnBothAsync(NetworkNamespace netns, int port, string[] arguments, Dictionary<string, string>? environment = null) =>
        SampleProcess.StartAsync(arguments, environment, urls: $"http://127.0.0.1:{port};http://{netns.HostAddress}:{port}");

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task PreStop_FromAnotherAddress_WithDefaults_IsRefused_AndReadinessUnchanged(bool kubernetes)
    {
        NetworkNamespace netns = await CreateNamespaceAsync();
        await using (netns)
        {
            int port = SampleProcess.FreePort();
            await using SampleProcess app = await StartOnBothAsync(netns, port, FastWait, kubernetes ? InKubernetes : null);
            using HttpClient local = SampleProcess.CreateClient(app.BaseAddress!);
            var remote = new Uri($"http://{netns.HostAddress}:{port}/");

            (int preStop, string body) = await netns.CurlAsync(new Uri(remote, "lifecycle/prestop?wait=false"));
            (int readyRemote, _) = await netns.CurlAsync(new Uri(remote, "health/ready"));
            HttpResponseMessage readyLocal = await local.GetAsync("health/ready");
            output.WriteLine($"ip netns exec {netns.Name} curl {remote}lifecycle/prestop?wait=false ({(kubernetes ? "Kubernetes mode" : "outside Kubernetes")}, defaults) -> {preStop} {body}");
            output.WriteLine($"then /health/ready: {readyRemote} from the namespace, {(int)readyLocal.StatusCode} from 127.0.0.1");

            Assert.Equal(403, preStop);
            Assert.Contains("\"status\":403", body, StringComparison.Ordinal);
            Assert.Equal(200, readyRemote);
            Assert.Equal(HttpStatusCode.OK, readyLocal.StatusCode);
            await app.WaitForEventAsync(301, netns.NamespaceAddress.ToString());
            app.Signal(SampleProcess.SIGTERM);
            Assert.Equal(0, await app.WaitForExitAsync());
            Assert.Contains("SigTerm", Assert.Single(app.Lines, l => SampleProcess.IsLibraryEvent(l, 100)), StringComparison.Ordinal);
        }

        Assert.False(await netns.AnyLeftAsync(), $"{netns} was not cleaned up");
    }

    [SkippableFact]
    public async Task PreStop_FromAnotherAddress_WithAToken_OnlyTheRightTokenDrains()
    {
        NetworkNamespace netns = await CreateNamespaceAsync();
        await using (netns)
        {
            int port = SampleProcess.FreePort();
            await using SampleProcess app = await StartOnBothAsync(netns, port, [.. FastWait, "--GracefulShutdown:PreStop:Token=from-a-secret"], InKubernetes);
            var remote = new Uri($"http://{netns.HostAddress}:{port}/");
            var preStopUrl = new Uri(remote, "lifecycle/prestop?wait=false");

            (int wrong, _) = await netns.CurlAsync(preStopUrl, "X-PreStop-Token: from-a-guess");
            (int readyAfterWrong, _) = await netns.CurlAsync(new Uri(remote, "health/ready"));
            (int right, _) = await netns.CurlAsync(preStopUrl, "X-PreStop-Token: from-a-secret", "User-Agent: kube-lifecycle/1.34");
            (int readyAfterRight, _) = await netns.CurlAsync(new Uri(remote, "health/ready"));
            output.WriteLine($"wrong token -> {wrong}, readiness {readyAfterWrong}; right token -> {right}, readiness {readyAfterRight}");

            Assert.Equal(403, wrong);
            Assert.Equal(200, readyAfterWrong);
            Assert.Equal(202, right);
            Assert.Equal(503, readyAfterRight);
            await app.WaitForLineAsync(l => SampleProcess.IsLibraryEvent(l, 300) &&
                l.Contains(netns.NamespaceAddress.ToString(), StringComparison.Ordinal) && l.Contains("kube-lifecycle/1.34", StringComparison.Ordinal));
            app.Signal(SampleProcess.SIGTERM);
            Assert.Equal(0, await app.WaitForExitAsync());
        }

        Assert.False(await netns.AnyLeftAsync(), $"{netns} was not cleaned up");
    }

    [SkippableFact]
    public async Task PreStop_FromAnotherAddress_OnTheManagementPort_Drains_AndTheAppPortHasNoEndpoints()
    {
        NetworkNamespace netns = await CreateNamespaceAsync();
        await using (netns)
        {
            int appPort = SampleProcess.FreePort();
            int managementPort = SampleProcess.FreePort();
            await using SampleProcess app = await SampleProcess.StartAsync([.. FastWait, $"--GracefulShutdown:ManagementPort={managementPort}"], InKubernetes,
                urls: $"http://127.0.0.1:{appPort};http://{netns.HostAddress}:{appPort};http://{netns.HostAddress}:{managementPort}");
            var appUrl = new Uri($"http://{netns.HostAddress}:{appPort}/");
            var managementUrl = new Uri($"http://{netns.HostAddress}:{managementPort}/");

            (int onAppPort, _) = await netns.CurlAsync(new Uri(appUrl, "lifecycle/prestop?wait=false"));
            (int readyBefore, _) = await netns.CurlAsync(new Uri(managementUrl, "health/ready"));
            (int onManagementPort, _) = await netns.CurlAsync(new Uri(managementUrl, "lifecycle/prestop?wait=false"));
            (int readyAfter, _) = await netns.CurlAsync(new Uri(managementUrl, "health/ready"));
            (int served, string body) = await netns.CurlAsync(appUrl);

            Assert.Equal(404, onAppPort);
            Assert.Equal(200, readyBefore);
            Assert.Equal(202, onManagementPort);
            Assert.Equal(503, readyAfter);
            Assert.Equal(200, served);
            Assert.Contains("Hello", body, StringComparison.Ordinal);
            app.Signal(SampleProcess.SIGTERM);
            Assert.Equal(0, await app.WaitForExitAsync());
        }

        Assert.False(await netns.AnyLeftAsync(), $"{netns} was not cleaned up");
    }
}
