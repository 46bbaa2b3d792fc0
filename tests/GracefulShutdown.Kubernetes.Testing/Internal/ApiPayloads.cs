using System.Text.Json.Nodes;

namespace GracefulShutdown.Kubernetes.Testing.Internal;

/// <summary>The fixed bodies of the API server: <c>Status</c> errors and legacy discovery documents.</summary>
internal static class ApiPayloads
{
    public static string Status(int code, string reason, string message, JsonObject? details = null)
    {
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = message,
            ["reason"] = reason,
        };
        if (details is not null)
        {
            status["details"] = details;
        }

        status["code"] = code;
        return status.ToJsonString();
    }

    /// <summary>The reason and message the real server uses for a bare status code.</summary>
    public static (string Reason, string Message) ForCode(int code) => code switch
    {
        400 => ("BadRequest", "the server rejected our request for an unknown reason"),
        401 => ("Unauthorized", "Unauthorized"),
        403 => ("Forbidden", "forbidden: User \"system:anonymous\" cannot get path \"/\""),
        404 => ("NotFound", "the server could not find the requested resource"),
        405 => ("MethodNotAllowed", "the server does not allow this method on the requested resource"),
        409 => ("Conflict", "the server reported a conflict"),
        410 => ("Expired", "the resourceVersion for the provided list is too old"),
        429 => ("TooManyRequests", "the server has received too many requests and has asked us to try again later"),
        500 => ("InternalError", "an error on the server (\"\") has prevented the request from succeeding"),
        503 => ("ServiceUnavailable", "the server is currently unable to handle the request"),
        504 => ("Timeout", "the server was unable to return a response in the time allotted, but may still be processing the request"),
        _ => (string.Empty, $"the server responded with the status code {code} but did not return more information"),
    };

    public static string Version(string gitVersion)
    {
        string[] parts = gitVersion.TrimStart('v').Split('.');
        return new JsonObject
        {
            ["major"] = parts[0],
            ["minor"] = parts.Length > 1 ? parts[1] : "0",
            ["gitVersion"] = gitVersion,
            ["gitCommit"] = "0000000000000000000000000000000000000000",
            ["gitTreeState"] = "clean",
            ["buildDate"] = "2025-01-01T00:00:00Z",
            ["goVersion"] = "go1.23.0",
            ["compiler"] = "gc",
            ["platform"] = "linux/amd64",
        }.ToJsonString();
    }

    public static string Namespace(string name) => new JsonObject
    {
        ["kind"] = "Namespace",
        ["apiVersion"] = "v1",
        ["metadata"] = new JsonObject
        {
            ["name"] = name,
            ["resourceVersion"] = "1",
            ["labels"] = new JsonObject { ["kubernetes.io/metadata.name"] = name },
        },
        ["spec"] = new JsonObject { ["finalizers"] = new JsonArray("kubernetes") },
        ["status"] = new JsonObject { ["phase"] = "Active" },
    }.ToJsonString();

    public static string ApiVersions(string serverAddress) => new JsonObject
    {
        ["kind"] = "APIVersions",
        ["versions"] = new JsonArray("v1"),
        ["serverAddressByClientCIDRs"] = new JsonArray(new JsonObject { ["clientCIDR"] = "0.0.0.0/0", ["serverAddress"] = serverAddress }),
    }.ToJsonString();

    public static string ApiGroupList() => new JsonObject
    {
        ["kind"] = "APIGroupList",
        ["apiVersion"] = "v1",
        ["groups"] = new JsonArray(Group(ResourceType.EndpointSlices.Group, ResourceType.EndpointSlices.Version)),
    }.ToJsonString();

    public static string ApiGroup(string group) => Group(group, "v1").Also(g => { g["kind"] = "APIGroup"; g["apiVersion"] = "v1"; }).ToJsonString();

    public static string ResourceList(string groupVersion) => new JsonObject
    {
        ["kind"] = "APIResourceList",
        ["apiVersion"] = "v1",
        ["groupVersion"] = groupVersion,
        ["resources"] = new JsonArray([.. ResourceType.All.Where(r => r.ApiVersion == groupVersion).Select(Resource)]),
    }.ToJsonString();

    private static JsonObject Group(string group, string version) => new()
    {
        ["name"] = group,
        ["versions"] = new JsonArray(new JsonObject { ["groupVersion"] = $"{group}/{version}", ["version"] = version }),
        ["preferredVersion"] = new JsonObject { ["groupVersion"] = $"{group}/{version}", ["version"] = version },
    };

    private static JsonObject Resource(ResourceType type)
    {
        var resource = new JsonObject
        {
            ["name"] = type.Plural,
            ["singularName"] = type.Singular,
            ["namespaced"] = true,
            ["kind"] = type.Kind,
            ["verbs"] = new JsonArray("get", "list", "watch"),
        };
        if (type.ShortNames.Length > 0)
        {
            resource["shortNames"] = new JsonArray([.. type.ShortNames.Select(s => (JsonNode?)s)]);
        }

        if (ReferenceEquals(type, ResourceType.Pods))
        {
            resource["categories"] = new JsonArray("all");
        }

        return resource;
    }

    private static JsonObject Also(this JsonObject obj, Action<JsonObject> change)
    {
        change(obj);
        return obj;
    }
}
