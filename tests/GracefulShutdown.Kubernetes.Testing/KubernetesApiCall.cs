namespace GracefulShutdown.Kubernetes.Testing;

/// <summary>One request a client sent to the stand-in, recorded on arrival in <see cref="KubernetesApiStandIn.Calls"/>.</summary>
public sealed class KubernetesApiCall
{
    /// <summary>Gets the 1-based arrival order of the request.</summary>
    public required long Sequence { get; init; }

    /// <summary>Gets the arrival time from the stand-in's <see cref="TimeProvider"/>.</summary>
    public required DateTimeOffset Time { get; init; }

    /// <summary>Gets the HTTP method, upper case.</summary>
    public required string Method { get; init; }

    /// <summary>Gets the request path as received, e.g. <c>/api/v1/namespaces/default/pods</c>.</summary>
    public required string Path { get; init; }

    /// <summary>Gets the raw query string including the leading <c>?</c>, or an empty string.</summary>
    public required string Query { get; init; }

    /// <summary>
    /// Gets the Kubernetes verb the request maps to: <c>get</c>, <c>list</c> or <c>watch</c> for resources,
    /// <c>discovery</c> for <c>/version</c>, <c>/api…</c> and <c>/apis…</c> without a resource, or <see langword="null"/>.
    /// </summary>
    public string? Verb { get; init; }

    /// <summary>Gets the resource (plural, e.g. <c>pods</c>, <c>endpointslices</c>), or <see langword="null"/>.</summary>
    public string? Resource { get; init; }

    /// <summary>Gets the namespace from the path, or <see langword="null"/> for cluster-wide requests.</summary>
    public string? Namespace { get; init; }

    /// <summary>Gets the object name from the path, or <see langword="null"/>.</summary>
    public string? Name { get; init; }

    /// <summary>Gets the HTTP protocol, e.g. <c>HTTP/1.1</c> or <c>HTTP/2</c> (kubectl negotiates HTTP/2 over TLS).</summary>
    public string Protocol { get; init; } = string.Empty;

    /// <summary>Gets the request's <c>Accept</c> header, if any.</summary>
    public string? Accept { get; init; }

    /// <summary>Gets the request's <c>User-Agent</c> header, if any.</summary>
    public string? UserAgent { get; init; }

    /// <summary>Gets the value of a query parameter, or <see langword="null"/> when absent.</summary>
    /// <param name="name">The parameter name, e.g. <c>resourceVersion</c>.</param>
    /// <returns>The first value, unescaped.</returns>
    public string? QueryValue(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        Microsoft.Extensions.Primitives.StringValues values = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(Query).GetValueOrDefault(name);
        return values.Count > 0 ? values[0] : null;
    }

    /// <inheritdoc/>
    public override string ToString() => $"#{Sequence} {Method} {Path}{Query}";
}
