namespace GracefulShutdown.Kubernetes.Testing;

/// <summary>What a request asks to do, as an RBAC rule sees it; given to <see cref="KubernetesApiStandInOptions.Authorize"/>.</summary>
/// <param name="Verb">The verb: <c>get</c>, <c>list</c> or <c>watch</c>.</param>
/// <param name="Resource">The resource, plural: <c>pods</c> or <c>endpointslices</c>.</param>
/// <param name="Group">The API group: empty for the core group, <c>discovery.k8s.io</c> for endpoint slices.</param>
/// <param name="Namespace">The namespace, or <see langword="null"/> for a cluster-wide request.</param>
public sealed record KubernetesAccess(string Verb, string Resource, string Group, string? Namespace);
