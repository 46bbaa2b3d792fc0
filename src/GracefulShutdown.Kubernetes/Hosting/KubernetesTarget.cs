using GracefulShutdown.Kubernetes.Api;
using GracefulShutdown.Kubernetes.Diagnostics;
using k8s;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulShutdown.Kubernetes.Hosting;

/// <summary>This pod and the API to read it from.</summary>
internal sealed record KubernetesTarget(string PodName, string PodNamespace, string Server, IKubernetesApi Api);

/// <summary>Finds this pod and the API (a seam: tests give a stand-in API).</summary>
internal interface IKubernetesTargetSource
{
    /// <summary>Returns the target, or <see langword="null"/> with one log line saying why the add-on stays off. Makes no API call.</summary>
    KubernetesTarget? Resolve();
}

/// <summary>
/// Configuration as kubectl and the official clients find it: the pod's name (and namespace) from the options, else
/// <c>POD_NAME</c> / <c>POD_NAMESPACE</c> (downward API); the API from <c>GracefulShutdown:Kubernetes:Kubeconfig</c>, else
/// <c>KUBECONFIG</c>, else the in-cluster service account, else <c>~/.kube/config</c>. No pod name: off — so an application
/// run on a developer's machine, which may well have a kubeconfig, never calls a cluster.
/// </summary>
internal sealed class KubernetesTargetSource : IKubernetesTargetSource
{
    private const string ServiceAccountToken = "/var/run/secrets/kubernetes.io/serviceaccount/token";

    private readonly KubernetesOptions _options;
    private readonly ILogger _logger;
    private readonly Func<string, string?> _environment;

    public KubernetesTargetSource(IOptions<KubernetesOptions> options, ILogger<KubernetesTargetSource> logger)
        : this(options.Value, logger, Environment.GetEnvironmentVariable)
    {
    }

    internal KubernetesTargetSource(KubernetesOptions options, ILogger logger, Func<string, string?> environment)
    {
        _options = options;
        _logger = logger;
        _environment = environment;
    }

    public KubernetesTarget? Resolve()
    {
        if (!_options.Enabled)
        {
            _logger.Off("GracefulShutdown:Kubernetes:Enabled is false");
            return null;
        }

        string? podName = NonEmpty(_options.PodName) ?? NonEmpty(_environment("POD_NAME"));
        if (podName is null)
        {
            _logger.Off("no pod name (set POD_NAME from the downward API's metadata.name, or GracefulShutdown:Kubernetes:PodName)");
            return null;
        }

        (KubernetesClientConfiguration Config, string Source)? found;
        string source = "?";
        try
        {
            found = FindConfiguration();
            if (found is null)
            {
                _logger.Off("no API configuration (no KUBECONFIG, no in-cluster service account, no ~/.kube/config)");
                return null;
            }

            source = found.Value.Source;
        }
#pragma warning disable CA1031 // A kubeconfig that does not load leaves the application as without the add-on.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _logger.ConfigurationFailed(source == "?" ? Describe() : source, ex);
            return null;
        }

        KubernetesClientConfiguration config = found.Value.Config;

        // Our own bounds (RequestTimeout, WatchTimeout) apply, on the TimeProvider: the client's 100 s default would cut the
        // opening of a watch on a quiet pod, which the client returns only once the first line has come.
        config.HttpClientTimeout = Timeout.InfiniteTimeSpan;
        string? podNamespace = NonEmpty(_options.PodNamespace) ?? NonEmpty(_environment("POD_NAMESPACE")) ?? NonEmpty(config.Namespace);
        if (podNamespace is null)
        {
            _logger.Off("no pod namespace (set POD_NAMESPACE from the downward API's metadata.namespace, or GracefulShutdown:Kubernetes:PodNamespace)");
            return null;
        }

        return new KubernetesTarget(podName, podNamespace, config.Host ?? "?", new KubernetesClientApi(new k8s.Kubernetes(config)));
    }

    private (KubernetesClientConfiguration, string)? FindConfiguration()
    {
        string? path = NonEmpty(_options.Kubeconfig) ?? FirstFile(_environment("KUBECONFIG"));
        if (path is not null)
        {
            return (KubernetesClientConfiguration.BuildConfigFromConfigFile(path), "kubeconfig " + path);
        }

        if (NonEmpty(_environment("KUBERNETES_SERVICE_HOST")) is not null && File.Exists(ServiceAccountToken))
        {
            return (KubernetesClientConfiguration.InClusterConfig(), "in-cluster service account");
        }

        string home = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".kube", "config");
        return File.Exists(home) ? (KubernetesClientConfiguration.BuildConfigFromConfigFile(home), "kubeconfig " + home) : null;
    }

    private string Describe() => NonEmpty(_options.Kubeconfig) ?? FirstFile(_environment("KUBECONFIG")) ?? "in-cluster service account";

    private static string? FirstFile(string? list) =>
        list?.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
