using GracefulShutdown;
using GracefulShutdown.Kubernetes;
using GracefulShutdown.Kubernetes.Diagnostics;
using GracefulShutdown.Kubernetes.Hosting;
using GracefulShutdown.Kubernetes.Watching;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Adds what the Kubernetes API knows about this pod's termination to the graceful shutdown lifecycle.
/// </summary>
public static class KubernetesGracefulShutdownBuilderExtensions
{
    /// <summary>
    /// Watches this pod and the EndpointSlices that list it, and tells the shutdown (<see cref="ITerminationFacts"/>): the real
    /// deadline (<c>metadata.deletionTimestamp</c>: the budget is fitted to a grace period shorter than the configured one, so
    /// the process exits before SIGKILL), the <c>DisruptionTarget</c> reason (in the drain-start line and the report; the
    /// traffic wait is skipped on graceful node shutdown), and whether this pod is the last ready endpoint of a Service that
    /// selects it (readiness then keeps passing while draining, for kube-proxy's terminating-endpoint fallback). Options bind
    /// strictly from <c>GracefulShutdown:Kubernetes</c>; see <see cref="KubernetesOptions"/> and docs/kubernetes.md.
    /// </summary>
    /// <param name="builder">The builder returned by <c>AddGracefulShutdown()</c>.</param>
    /// <returns>The value of <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    /// <remarks>
    /// <para>This operation is idempotent.</para>
    /// <para>
    /// Without a pod name (<c>POD_NAME</c> or <c>GracefulShutdown:Kubernetes:PodName</c>) the add-on stays off with one
    /// Information line and makes no call, even where a kubeconfig exists. The API being unreachable, slow, refusing (401/403)
    /// or answering nonsense never delays start-up, readiness or the shutdown: one warning per kind of fault, and the shutdown
    /// runs as without the add-on. Needs RBAC: get/list/watch on pods, list/watch on endpointslices.discovery.k8s.io in the
    /// pod's namespace (samples/k8s/rbac.yaml).
    /// </para>
    /// <para>Adds metrics on the meter <c>GracefulShutdown.Kubernetes</c>.</para>
    /// </remarks>
    public static IGracefulShutdownBuilder AddKubernetes(this IGracefulShutdownBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        IServiceCollection services = builder.Services;
        if (services.Any(static d => d.ServiceType == typeof(Marker)))
        {
            return builder;
        }

        services.AddSingleton<Marker>();
        services.AddOptions<KubernetesOptions>().BindStrictly(KubernetesOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<KubernetesOptions>, KubernetesOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.TryAddSingleton<KubernetesMetrics>();
        services.TryAddSingleton<ApiFaults>();
        services.TryAddSingleton<IKubernetesTargetSource, KubernetesTargetSource>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, KubernetesWatchService>());
        return builder;
    }

    /// <summary>Marks that the Kubernetes services are registered, so <c>AddKubernetes()</c> runs once.</summary>
    private sealed class Marker;
}
