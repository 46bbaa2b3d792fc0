using System.Reflection;
using GracefulShutdown.Lifecycle;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace GracefulShutdown.Endpoints;

/// <summary>
/// Marks Kestrel connections accepted after the drain began. A balancer that opened one still routes here, so telling it to
/// reconnect only brings it back to this replica; for HTTP/2 that churn races calls against GOAWAY (gRPC clients see
/// <c>Internal</c>), so such connections are left to the server stop. Runs once per connection, never per request.
/// </summary>
internal sealed class DrainConnectionMarker(LifecycleState state) : IPostConfigureOptions<KestrelServerOptions>
{
    // ConfigureEndpointDefaults replaces the defaults rather than adding to them; the library composes with whatever the app
    // set (a post-configure runs after the app's own configuration). If this non-public property is ever gone, connections
    // are simply not marked: HTTP/2 then behaves as before.
    private static readonly PropertyInfo? s_endpointDefaults =
        typeof(KestrelServerOptions).GetProperty("EndpointDefaults", BindingFlags.Instance | BindingFlags.NonPublic);

    /// <summary>The feature present on connections accepted while draining; one shared instance, so marking allocates nothing.</summary>
    internal sealed class OpenedWhileDraining
    {
        public static readonly OpenedWhileDraining Instance = new();
    }

    public void PostConfigure(string? name, KestrelServerOptions options)
    {
        if (s_endpointDefaults?.GetValue(options) is not Action<ListenOptions> appDefaults)
        {
            return;
        }

        options.ConfigureEndpointDefaults(listen =>
        {
            appDefaults(listen);
            listen.Use(next => connection =>
            {
                if (state.IsDraining)
                {
                    connection.Features.Set(OpenedWhileDraining.Instance);
                }

                return next(connection);
            });
        });
    }
}
