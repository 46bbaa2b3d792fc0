namespace GracefulShutdown.Kubernetes;

/// <summary>
/// Settings of the Kubernetes add-on, bound strictly from <c>GracefulShutdown:Kubernetes</c>. Every one has a default that fits
/// a pod whose manifest sets <c>POD_NAME</c> and <c>POD_NAMESPACE</c> from the downward API.
/// </summary>
public sealed class KubernetesOptions
{
    /// <summary>The configuration section the options bind from.</summary>
    public const string SectionName = "GracefulShutdown:Kubernetes";

    /// <summary>Gets or sets whether the add-on reads the API at all. Default: <see langword="true"/>.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Gets or sets this pod's name. Default: the <c>POD_NAME</c> environment variable (downward API <c>metadata.name</c>).
    /// With neither the add-on stays off (one Information line), so an application run outside a pod makes no API call even
    /// when the machine has a kubeconfig.
    /// </summary>
    public string? PodName { get; set; }

    /// <summary>
    /// Gets or sets this pod's namespace. Default: the <c>POD_NAMESPACE</c> environment variable (downward API
    /// <c>metadata.namespace</c>), then the service account's namespace file, then the kubeconfig context's namespace.
    /// </summary>
    public string? PodNamespace { get; set; }

    /// <summary>
    /// Gets or sets the kubeconfig file to use. Default: the <c>KUBECONFIG</c> environment variable (its first file); without it
    /// the in-cluster service account (as kubectl and the official clients do inside a pod), then <c>~/.kube/config</c>.
    /// </summary>
    public string? Kubeconfig { get; set; }

    /// <summary>
    /// Gets or sets whether readiness keeps passing after the drain began while some Service that selects this pod has no other
    /// ready endpoint, so that kube-proxy's fallback to serving terminating endpoints (KEP-1669) keeps routing here instead
    /// of into a black hole; once every such Service has another ready endpoint, readiness fails and the traffic wait runs as usual.
    /// Default: <see langword="true"/>.
    /// </summary>
    public bool HoldReadinessWhileLastEndpoint { get; set; } = true;

    /// <summary>
    /// Gets or sets whether the traffic wait is skipped when the pod's <c>DisruptionTarget</c> condition says graceful node
    /// shutdown (the kubelet does not update endpoints then: kubernetes/kubernetes#116965). Default: <see langword="true"/>.
    /// </summary>
    public bool SkipTrafficWaitOnNodeShutdown { get; set; } = true;

    /// <summary>Gets or sets the longest one list call may take. Default: 10 s.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Gets or sets how long one watch lasts before the server closes it (<c>timeoutSeconds</c>) and it is opened again from
    /// the last resource version. A watch the server has not ended within this plus <see cref="RequestTimeout"/> — its opening
    /// included, which the official client completes only once the first event or bookmark has come — is given up. Default: 5 min.
    /// </summary>
    public TimeSpan WatchTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Gets or sets the first delay before a failed call is tried again; it doubles up to <see cref="RetryDelayMaximum"/>. Default: 1 s.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets the longest delay between retries of a failed call. Default: 30 s.</summary>
    public TimeSpan RetryDelayMaximum { get; set; } = TimeSpan.FromSeconds(30);
}
