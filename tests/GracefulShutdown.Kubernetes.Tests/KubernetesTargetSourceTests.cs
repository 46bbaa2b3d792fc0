using GracefulShutdown.Kubernetes.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace GracefulShutdown.Kubernetes.Tests;

/// <summary>Configuration as kubectl finds it; no pod name means off, whatever kubeconfig the machine has.</summary>
public sealed class KubernetesTargetSourceTests : IDisposable
{
    private readonly FakeLogCollector _logs = new();
    private readonly Dictionary<string, string?> _environment = [];
    private readonly KubernetesOptions _options = new();
    private readonly string _kubeconfig = Path.Combine(Path.GetTempPath(), $"k8s-target-{Guid.NewGuid():N}.yaml");

    public KubernetesTargetSourceTests() => File.WriteAllText(_kubeconfig, """
        apiVersion: v1
        kind: Config
        clusters:
        - name: standin
          cluster:
            server: http://127.0.0.1:9
        users:
        - name: app
          user:
            token: abc
        contexts:
        - name: standin
          context:
            cluster: standin
            user: app
            namespace: from-context
        current-context: standin
        """);

    public void Dispose() => File.Delete(_kubeconfig);

    private KubernetesTarget? Resolve() =>
        new KubernetesTargetSource(_options, new FakeLogger(_logs), name => _environment.GetValueOrDefault(name)).Resolve();

    private FakeLogRecord Single(int id) => Assert.Single(_logs.GetSnapshot(), r => r.Id.Id == id);

    [Fact]
    public void NoPodName_Off_OneInformationLine_EvenWithAKubeconfig()
    {
        _environment["KUBECONFIG"] = _kubeconfig;

        Assert.Null(Resolve());

        FakeLogRecord off = Single(500);
        Assert.Equal(LogLevel.Information, off.Level);
        Assert.Contains("POD_NAME", off.Message, StringComparison.Ordinal);
        Assert.Single(_logs.GetSnapshot());
    }

    [Fact]
    public void Disabled_Off()
    {
        _options.Enabled = false;
        _environment["POD_NAME"] = "web-1";

        Assert.Null(Resolve());
        Assert.Contains("Enabled is false", Single(500).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PodNameAndKubeconfig_TheContextsNamespace()
    {
        _environment["POD_NAME"] = "web-1";
        _environment["KUBECONFIG"] = _kubeconfig + Path.PathSeparator + "/nonexistent/second";

        KubernetesTarget target = Assert.IsType<KubernetesTarget>(Resolve());

        Assert.Equal("web-1", target.PodName);
        Assert.Equal("from-context", target.PodNamespace);
        Assert.StartsWith("http://127.0.0.1:9", target.Server, StringComparison.Ordinal);
        (target.Api as IDisposable)?.Dispose();
    }

    [Fact]
    public void DownwardApiNamespace_BeatsTheContext_OptionsBeatBoth()
    {
        _environment["POD_NAME"] = "web-1";
        _environment["POD_NAMESPACE"] = "shop";
        _environment["KUBECONFIG"] = _kubeconfig;

        KubernetesTarget fromEnvironment = Assert.IsType<KubernetesTarget>(Resolve());
        _options.PodName = "web-9";
        _options.PodNamespace = "other";
        KubernetesTarget fromOptions = Assert.IsType<KubernetesTarget>(Resolve());

        Assert.Equal(("web-1", "shop"), (fromEnvironment.PodName, fromEnvironment.PodNamespace));
        Assert.Equal(("web-9", "other"), (fromOptions.PodName, fromOptions.PodNamespace));
    }

    [Fact]
    public void KubeconfigDoesNotLoad_Off_OneWarning()
    {
        _environment["POD_NAME"] = "web-1";
        File.WriteAllText(_kubeconfig, "this: [is not a kubeconfig");
        _environment["KUBECONFIG"] = _kubeconfig;

        Assert.Null(Resolve());

        FakeLogRecord warning = Single(509);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains(_kubeconfig, warning.Message, StringComparison.Ordinal);
    }
}
