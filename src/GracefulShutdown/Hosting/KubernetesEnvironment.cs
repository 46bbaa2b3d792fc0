namespace GracefulShutdown.Hosting;

/// <summary>Whether the process runs in a Kubernetes pod (kubelet always sets <c>KUBERNETES_SERVICE_HOST</c>).</summary>
internal sealed record KubernetesEnvironment(bool IsKubernetes)
{
    public static KubernetesEnvironment FromProcess() =>
        new(!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_HOST")));
}
