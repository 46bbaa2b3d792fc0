namespace GracefulShutdown.Kubernetes.Testing.Internal;

/// <summary>A resource the stand-in serves: its kind, plural and group/version.</summary>
internal sealed record ResourceType(string Kind, string Plural, string Singular, string Group, string Version, string[] ShortNames)
{
    public static readonly ResourceType Pods = new("Pod", "pods", "pod", string.Empty, "v1", ["po"]);

    public static readonly ResourceType EndpointSlices = new("EndpointSlice", "endpointslices", "endpointslice", "discovery.k8s.io", "v1", []);

    public static readonly IReadOnlyList<ResourceType> All = [Pods, EndpointSlices];

    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    public string ListKind => Kind + "List";

    /// <summary>Field selectors the real server accepts for this resource (others get 400 "field label not supported").</summary>
    public IReadOnlySet<string> SelectableFields => ReferenceEquals(this, Pods) ? s_podFields : s_commonFields;

    private static readonly HashSet<string> s_commonFields = ["metadata.name", "metadata.namespace"];

    private static readonly HashSet<string> s_podFields =
    [
        "metadata.name", "metadata.namespace", "spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
        "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName",
    ];

    /// <summary>Finds the resource of an object by its <c>kind</c> and <c>apiVersion</c> (the apiVersion may be omitted).</summary>
    public static ResourceType? ByKind(string? kind, string? apiVersion) =>
        All.FirstOrDefault(r => string.Equals(r.Kind, kind, StringComparison.Ordinal) && (apiVersion is null || r.ApiVersion == apiVersion));

    /// <summary>Finds a resource by kind (any case), plural, singular or short name, e.g. for <see cref="KubernetesApiStandIn.Get"/>.</summary>
    public static ResourceType? ByAnyName(string name) =>
        All.FirstOrDefault(r =>
            string.Equals(r.Kind, name, StringComparison.OrdinalIgnoreCase)
            || string.Equals(r.Plural, name, StringComparison.OrdinalIgnoreCase)
            || string.Equals(r.Singular, name, StringComparison.OrdinalIgnoreCase)
            || r.ShortNames.Contains(name, StringComparer.OrdinalIgnoreCase));
}
