using GracefulShutdown.Connections;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// Per-endpoint choices about how the drain treats an endpoint's long-lived connections.
/// </summary>
public static class GracefulShutdownEndpointConventionBuilderExtensions
{
    /// <summary>
    /// Leaves the WebSockets accepted by this endpoint to the endpoint: the library does not close them with 1001 when the traffic
    /// wait is over. The endpoint closes them itself, typically when <c>IGracefulShutdown.TrafficWaitEnded</c> fires; whatever is
    /// still open when the drain timeout runs out is aborted by the server.
    /// </summary>
    /// <typeparam name="TBuilder">The endpoint convention builder type.</typeparam>
    /// <param name="builder">The endpoint (or group, or hub) convention builder.</param>
    /// <returns>The value of <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    public static TBuilder DisableGracefulWebSocketClose<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Add(static endpoint => endpoint.Metadata.Add(WebSocketCloseOptOut.Instance));
        return builder;
    }
}
