namespace GracefulShutdown.Kubernetes.Testing;

/// <summary>Options for <see cref="KubernetesApiStandIn.StartAsync"/>.</summary>
public sealed class KubernetesApiStandInOptions
{
    /// <summary>Gets or sets the bearer token the stand-in requires; a random one when <see langword="null"/>.</summary>
    /// <value>The default value is <see langword="null"/> (32 random hex digits). It must not be empty or contain white space.</value>
    public string? Token { get; set; }

    /// <summary>
    /// Gets or sets how often a watch opened with <c>allowWatchBookmarks=true</c> receives a BOOKMARK event.
    /// The real API server sends one about every minute; the default here is 1 second so tests see them.
    /// </summary>
    /// <value>The default value is 1 second. Zero sends no bookmarks; negative values are rejected by <see cref="KubernetesApiStandIn.StartAsync"/>.</value>
    public TimeSpan BookmarkInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Gets or sets how many changes the stand-in keeps to replay to watches that start from a resourceVersion. Past it
    /// the oldest are dropped as etcd compaction drops them (a watch from before them gets 410 Expired), so a long
    /// benchmark does not grow without bound. <see cref="KubernetesApiStandIn.CompactBefore"/> drops them on demand.
    /// </summary>
    /// <value>The default value is 100,000. It must be at least 1.</value>
    public int MaxHistory { get; set; } = 100_000;

    /// <summary>
    /// Gets or sets the clock for <c>creationTimestamp</c>, call times, bookmarks, <c>timeoutSeconds</c> and
    /// <see cref="KubernetesFaults.Delay"/>; <see cref="TimeProvider.System"/> when <see langword="null"/>.
    /// </summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public TimeProvider? TimeProvider { get; set; }

    /// <summary>
    /// Gets or sets an RBAC-like rule: a request for which it returns <see langword="false"/> gets 403 Forbidden with
    /// the real server's Status body. <see langword="null"/> allows everything. It can be changed later through
    /// <see cref="KubernetesApiStandIn.Authorize"/>.
    /// </summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public Func<KubernetesAccess, bool>? Authorize { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether the stand-in serves HTTPS with a throw-away CA (the default), as the real
    /// server does. Over plain HTTP kubectl and client-go do not send the kubeconfig's token at all (so they get 401).
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool UseHttps { get; set; } = true;

    /// <summary>Gets or sets the <c>gitVersion</c> served on <c>/version</c>.</summary>
    /// <value>The default value is <c>v1.32.4</c>.</value>
    public string ServerVersion { get; set; } = "v1.32.4";
}
