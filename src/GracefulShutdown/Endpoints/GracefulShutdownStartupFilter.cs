using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace GracefulShutdown.Endpoints;

/// <summary>Puts the middleware first, ahead of routing, authentication and HTTPS redirection, which kubelet's calls must bypass.</summary>
internal sealed class GracefulShutdownStartupFilter : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.UseMiddleware<GracefulShutdownMiddleware>();
        next(app);
    };
}
