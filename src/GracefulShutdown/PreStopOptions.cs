using GracefulShutdown.Hosting;

namespace GracefulShutdown;

/// <summary>
/// Who may call the preStop endpoint, bound from <c>GracefulShutdown:PreStop</c>. kubelet calls from the node to the pod IP, so
/// in Kubernetes set <see cref="GracefulShutdownOptions.ManagementPort"/> or <see cref="Token"/>: with neither, the endpoint
/// refuses every caller inside Kubernetes (a same-pod proxy or mesh sidecar connects from loopback) and accepts only loopback
/// callers outside it.
/// </summary>
public class PreStopOptions
{
    /// <summary>
    /// Gets or sets a shared secret that callers must send in the <see cref="TokenHeaderName"/> header
    /// (from the manifest's <c>httpGet.httpHeaders</c>).
    /// </summary>
    /// <value>The default value is <see langword="null"/> (no token). Not empty or white space when set.</value>
    [NotBlank]
    public string? Token { get; set; }

    /// <summary>Gets or sets the header that carries <see cref="Token"/>. Advanced.</summary>
    /// <value>The default value is <c>X-PreStop-Token</c>. A valid HTTP header name.</value>
    [HeaderName]
    public string TokenHeaderName { get; set; } = "X-PreStop-Token";

    /// <summary>
    /// Gets or sets whether loopback callers may call the preStop endpoint when neither <see cref="Token"/> nor
    /// <see cref="GracefulShutdownOptions.ManagementPort"/> is set. Advanced.
    /// </summary>
    /// <value>
    /// The default value is <see langword="null"/>: allowed outside Kubernetes (local development), refused inside it, where
    /// requests through a same-pod proxy (Istio's sidecar connects from 127.0.0.6, Linkerd's from 127.0.0.1) arrive from loopback.
    /// <see langword="true"/> allows loopback inside Kubernetes too (<c>exec</c> hooks in images without a proxy);
    /// <see langword="false"/> never allows it.
    /// </value>
    public bool? AllowLoopback { get; set; }

    /// <summary>
    /// Gets or sets how long after <see cref="GracefulShutdownOptions.TerminationGracePeriod"/> a drain begun by the preStop
    /// endpoint waits for SIGTERM before it stops the application itself: kubelet would have killed the pod by then, so the
    /// call did not come from a termination, and a restart beats a replica stuck out of rotation. Advanced.
    /// </summary>
    /// <value>The default value is 5 seconds. Zero or more, at most one day.</value>
    [Duration]
    public TimeSpan SigTermMargin { get; set; } = TimeSpan.FromSeconds(5);
}
