using Microsoft.AspNetCore.Http;

namespace GracefulShutdown.Kubernetes.Testing.Internal;

internal enum RouteKind
{
    NotFound,
    Version,
    CoreVersions,
    Groups,
    Group,
    ResourceList,
    Namespace,
    Resource,
}

/// <summary>What a request path names: a discovery document, or a resource (collection or object) and the verb.</summary>
internal sealed record ApiRoute(RouteKind Kind, string? Verb, string? GroupVersion = null, ResourceType? Resource = null, string? Namespace = null, string? Name = null)
{
    private static readonly ApiRoute s_notFound = new(RouteKind.NotFound, null);

    public static ApiRoute Match(string path, IQueryCollection query)
    {
        string[] s = path.Trim('/').Split('/');
        if (path is "/version" or "/version/")
        {
            return new ApiRoute(RouteKind.Version, "discovery");
        }

        // "/api/v1/..." has a group version of one segment, "/apis/{group}/{version}/..." of two.
        int rest;
        string groupVersion;
        if (s[0] == "api")
        {
            if (s.Length == 1)
            {
                return new ApiRoute(RouteKind.CoreVersions, "discovery");
            }

            (groupVersion, rest) = (s[1], 2);
        }
        else if (s[0] == "apis")
        {
            if (s.Length == 1)
            {
                return new ApiRoute(RouteKind.Groups, "discovery");
            }

            if (ResourceType.All.All(r => r.Group != s[1]))
            {
                return s_notFound;
            }

            if (s.Length == 2)
            {
                return new ApiRoute(RouteKind.Group, "discovery", s[1]);
            }

            (groupVersion, rest) = ($"{s[1]}/{s[2]}", 3);
        }
        else
        {
            return s_notFound;
        }

        if (ResourceType.All.All(r => r.ApiVersion != groupVersion))
        {
            return s_notFound;
        }

        if (s.Length == rest)
        {
            return new ApiRoute(RouteKind.ResourceList, "discovery", groupVersion);
        }

        // kubectl reads the namespace after a 404 on an object, to tell "no such namespace" from "no such object".
        if (groupVersion == "v1" && s[rest] == "namespaces" && s.Length == rest + 2)
        {
            return new ApiRoute(RouteKind.Namespace, "get", groupVersion, Namespace: s[rest + 1]);
        }

        string? ns = null;
        if (s[rest] == "namespaces" && s.Length >= rest + 3)
        {
            ns = s[rest + 1];
            rest += 2;
        }

        ResourceType? resource = ResourceType.All.FirstOrDefault(r => r.ApiVersion == groupVersion && r.Plural == s[rest]);
        if (resource is null || s.Length > rest + 2 || ns is { Length: 0 })
        {
            return s_notFound;
        }

        if (s.Length == rest + 2)
        {
            // A single object needs its namespace (both resources are namespaced).
            return ns is null ? s_notFound : new ApiRoute(RouteKind.Resource, "get", groupVersion, resource, ns, s[rest + 1]);
        }

        bool watch = query["watch"] is { Count: > 0 } w && (w == "true" || w == "1");
        return new ApiRoute(RouteKind.Resource, watch ? "watch" : "list", groupVersion, resource, ns);
    }
}
