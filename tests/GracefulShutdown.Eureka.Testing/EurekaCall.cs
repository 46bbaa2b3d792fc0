namespace GracefulShutdown.Eureka.Testing;

/// <summary>One request the stand-in answered (or aborted), as recorded in <see cref="EurekaServerStandIn.Calls"/>.</summary>
public sealed class EurekaCall
{
    /// <summary>Gets the 1-based arrival order of the request.</summary>
    public required long Sequence { get; init; }

    /// <summary>Gets the arrival time as a <see cref="TimeProvider.GetTimestamp"/> value of the stand-in's time provider.</summary>
    public required long Timestamp { get; init; }

    /// <summary>Gets the arrival time as <see cref="TimeProvider.GetUtcNow"/> of the stand-in's time provider.</summary>
    public required DateTimeOffset ReceivedAt { get; init; }

    /// <summary>Gets the HTTP method, upper case.</summary>
    public required string Method { get; init; }

    /// <summary>Gets the request path as received, e.g. <c>/eureka/apps/MYAPP/host:1</c>.</summary>
    public required string Path { get; init; }

    /// <summary>Gets the raw query string including the leading <c>?</c>, or an empty string.</summary>
    public required string Query { get; init; }

    /// <summary>Gets the operation the request was routed to.</summary>
    public required EurekaOperation Operation { get; init; }

    /// <summary>Gets the upper-cased application name from the path, if the route has one.</summary>
    public string? AppName { get; init; }

    /// <summary>Gets the instance id from the path, if the route has one.</summary>
    public string? InstanceId { get; init; }

    /// <summary>Gets the request's <c>Accept</c> header, if any.</summary>
    public string? Accept { get; init; }

    /// <summary>Gets the request's <c>Content-Type</c> header, if any.</summary>
    public string? ContentType { get; init; }

    /// <summary>Gets the request body as text, or <see langword="null"/> when it was empty.</summary>
    public string? RequestBody { get; init; }

    /// <summary>Gets the response status code; 0 when the request was aborted without a response (hang fault released by shutdown or client abort).</summary>
    public required int StatusCode { get; init; }

    /// <summary>Gets the response body as text (before any gzip), or <see langword="null"/> when empty.</summary>
    public string? ResponseBody { get; init; }

    /// <summary>Gets a value indicating whether an injected fault decided the response.</summary>
    public bool Faulted { get; init; }

    /// <inheritdoc/>
    public override string ToString() =>
        $"#{Sequence} {Method} {Path}{Query} -> {StatusCode}{(Faulted ? " (fault)" : string.Empty)}";
}
