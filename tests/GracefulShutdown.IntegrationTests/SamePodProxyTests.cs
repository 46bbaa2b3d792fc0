using System.Net;
using System.Text.Json;
using Xunit.Abstractions;

namespace GracefulShutdown.IntegrationTests;

/// <summary>
/// Requests that reach the app through a proxy in the same pod arrive from loopback: Istio's sidecar connects from 127.0.0.6,
/// Linkerd's from 127.0.0.1. Inside Kubernetes, "loopback may call preStop" would let every caller of the Service drain the pod.
/// The proxy here is a real TCP forwarder whose connections to the app come from 127.0.0.6.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class SamePodProxyTests(ITestOutputHelper output)
{
    private static readonly Dictionary<string, string> InKubernetes = new() { ["KUBERNETES_SERVICE_HOST"] = "10.96.0.1" };
    private static readonly IPAddress IstioInboundSource = IPAddress.Parse("127.0.0.6");

    private static readonly string[] FastWait =
    [
        "--GracefulShutdown:TrafficWait:Minimum=00:00:00.300",
        "--GracefulShutdown:TrafficWait:QuietPeriod=00:00:00.300",
        "--GracefulShutdown:TrafficWait:Maximum=00:00:03",
    ];

    private static TcpForwarder SidecarFor(SampleProcess app) =>
        TcpForwarder.Start(new IPEndPoint(IPAddress.Loopback, app.BaseAddress!.Port), IstioInboundSource);

    [Fact]
    public async Task PreStop_ThroughASamePodProxy_InKubernetesWithDefaults_IsRefused_AndReadinessStays200()
    {
        await using SampleProcess app = await SampleProcess.StartAsync(FastWait, InKubernetes);
        await using TcpForwarder sidecar = SidecarFor(app);
        using HttpClient throughSidecar = SampleProcess.CreateClient(sidecar.BaseAddress);
        using HttpClient direct = SampleProcess.CreateClient(app.BaseAddress!);

        HttpResponseMessage preStop = await throughSidecar.GetAsync("lifecycle/prestop?wait=false");
        string body = await preStop.Content.ReadAsStringAsync();
        HttpResponseMessage readyThroughSidecar = await throughSidecar.GetAsync("health/ready");
        HttpResponseMessage readyDirect = await direct.GetAsync("health/ready");
        output.WriteLine($"GET /lifecycle/prestop?wait=false via a forwarder from 127.0.0.6, Kubernetes mode, default configuration: " +
            $"{(int)preStop.StatusCode} {preStop.Content.Headers.ContentType} {body}");
        output.WriteLine($"then GET /health/ready: {(int)readyThroughSidecar.StatusCode} (via the forwarder), {(int)readyDirect.StatusCode} (direct)");

        Assert.Equal(HttpStatusCode.Forbidden, preStop.StatusCode);
        Assert.Equal("application/problem+json", preStop.Content.Headers.ContentType!.MediaType);
        Assert.Equal(HttpStatusCode.OK, readyThroughSidecar.StatusCode);
        Assert.Equal(HttpStatusCode.OK, readyDirect.StatusCode);
        await app.WaitForEventAsync(301, "127.0.0.6");

        // The SIGTERM path needs no configuration and still drains; the only drain is the one SIGTERM began.
        app.Signal(SampleProcess.SIGTERM);
        Assert.Equal(0, await app.WaitForExitAsync());
        Assert.Contains("SigTerm", Assert.Single(app.Lines, l => SampleProcess.IsLibraryEvent(l, 100)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PreStop_DirectFromLoopback_InKubernetesWithDefaults_IsRefused_AndTheStartupWarningSaysWhatToSet()
    {
        await using SampleProcess app = await SampleProcess.StartAsync(FastWait, InKubernetes);
        using HttpClient direct = SampleProcess.CreateClient(app.BaseAddress!);

        HttpResponseMessage preStop = await direct.GetAsync("lifecycle/prestop?wait=false");
        HttpResponseMessage ready = await direct.GetAsync("health/ready");

        Assert.Equal(HttpStatusCode.Forbidden, preStop.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        string warning = Assert.Single(app.Lines, l => SampleProcess.IsLibraryEvent(l, 2));
        output.WriteLine(warning);
        Assert.Equal("warn", app.EventLevel(2));
        Assert.Contains("GracefulShutdown:ManagementPort", warning, StringComparison.Ordinal);
        Assert.Contains("GracefulShutdown:PreStop:Token", warning, StringComparison.Ordinal);
        Assert.Contains("GracefulShutdown:PreStop:AllowLoopback", warning, StringComparison.Ordinal);
        app.Signal(SampleProcess.SIGTERM);
        Assert.Equal(0, await app.WaitForExitAsync());
    }

    [Fact]
    public async Task PreStop_InKubernetesWithAllowLoopback_AcceptsLoopback_ForExecHooksInImagesWithoutAProxy()
    {
        await using SampleProcess app = await SampleProcess.StartAsync([.. FastWait, "--GracefulShutdown:PreStop:AllowLoopback=true"], InKubernetes);
        using HttpClient direct = SampleProcess.CreateClient(app.BaseAddress!);

        HttpResponseMessage preStop = await direct.GetAsync("lifecycle/prestop?wait=false");
        HttpResponseMessage ready = await direct.GetAsync("health/ready");

        Assert.Equal(HttpStatusCode.Accepted, preStop.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        app.Signal(SampleProcess.SIGTERM);
        Assert.Equal(0, await app.WaitForExitAsync());
    }

    [Fact]
    public async Task PreStop_ThroughASamePodProxy_InKubernetesWithAToken_NeedsTheToken()
    {
        await using SampleProcess app = await SampleProcess.StartAsync([.. FastWait, "--GracefulShutdown:PreStop:Token=mesh-s3cret"], InKubernetes);
        await using TcpForwarder sidecar = SidecarFor(app);
        using HttpClient throughSidecar = SampleProcess.CreateClient(sidecar.BaseAddress);

        HttpResponseMessage withoutToken = await throughSidecar.GetAsync("lifecycle/prestop?wait=false");
        HttpResponseMessage readyStill = await throughSidecar.GetAsync("health/ready");
        using var request = new HttpRequestMessage(HttpMethod.Get, "lifecycle/prestop?wait=false");
        request.Headers.Add("X-PreStop-Token", "mesh-s3cret");
        HttpResponseMessage withToken = await throughSidecar.SendAsync(request);
        HttpResponseMessage readyAfter = await throughSidecar.GetAsync("health/ready");

        Assert.Equal(HttpStatusCode.Forbidden, withoutToken.StatusCode);
        Assert.Equal(HttpStatusCode.OK, readyStill.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, withToken.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, readyAfter.StatusCode);
        Assert.NotEqual("warn", app.EventLevel(2));
        app.Signal(SampleProcess.SIGTERM);
        Assert.Equal(0, await app.WaitForExitAsync());
    }

    [Fact]
    public async Task PreStop_ThroughASamePodProxy_OutsideKubernetes_LoopbackStaysAllowedForLocalDevelopment()
    {
        await using SampleProcess app = await SampleProcess.StartAsync(FastWait);
        await using TcpForwarder sidecar = SidecarFor(app);
        using HttpClient throughSidecar = SampleProcess.CreateClient(sidecar.BaseAddress);

        HttpResponseMessage preStop = await throughSidecar.GetAsync("lifecycle/prestop?wait=false");
        HttpResponseMessage ready = await throughSidecar.GetAsync("health/ready");

        Assert.Equal(HttpStatusCode.Accepted, preStop.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        await app.WaitForEventAsync(300, "127.0.0.6");
        app.Signal(SampleProcess.SIGTERM);
        Assert.Equal(0, await app.WaitForExitAsync());
    }

    [Fact]
    public async Task PreStop_Refusal_IsProblemJsonNamingWhatToConfigure()
    {
        await using SampleProcess app = await SampleProcess.StartAsync(FastWait, InKubernetes);
        await using TcpForwarder sidecar = SidecarFor(app);
        using HttpClient throughSidecar = SampleProcess.CreateClient(sidecar.BaseAddress);

        HttpResponseMessage preStop = await throughSidecar.GetAsync("lifecycle/prestop");
        using JsonDocument problem = JsonDocument.Parse(await preStop.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.Forbidden, preStop.StatusCode);
        Assert.Equal(403, problem.RootElement.GetProperty("status").GetInt32());
        string detail = problem.RootElement.GetProperty("detail").GetString()!;
        Assert.Contains("GracefulShutdown:ManagementPort", detail, StringComparison.Ordinal);
        Assert.Contains("GracefulShutdown:PreStop:Token", detail, StringComparison.Ordinal);
        app.Signal(SampleProcess.SIGTERM);
        Assert.Equal(0, await app.WaitForExitAsync());
    }
}
