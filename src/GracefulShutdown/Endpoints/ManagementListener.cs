using System.Globalization;
using GracefulShutdown.Diagnostics;
using GracefulShutdown.Lifecycle;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace GracefulShutdown.Endpoints;

/// <summary>
/// A host without a web server (<c>Host.CreateApplicationBuilder</c>, a Worker Service): the drain skips the traffic wait
/// (<see cref="TrafficWaitOutcome.SkippedNoServer"/>: nothing routes traffic here, intake stops when the drain begins), and the
/// probes and preStop hook are served on <c>GracefulShutdown:ManagementPort</c> by a Kestrel instance of the library's own (an empty web application),
/// with the same handlers, paths and answers as the middleware in a web app. In a web host it does nothing.
/// </summary>
/// <remarks>
/// Registered before the other hosted services, so it starts first and stops last: readiness answers 503 through the whole drain.
/// </remarks>
internal sealed class ManagementListener(
    IServiceProvider services,
    LifecycleEndpoints endpoints,
    TrafficWait trafficWait,
    ILoggerFactory loggerFactory,
    ILogger<ManagementListener> logger) : IHostedService
{
    private WebApplication? _server;

    /// <summary>Gets whether this host has no web server of its own (decided when the host starts).</summary>
    public bool NoWebServer { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (services.GetService<IServer>() is not null)
        {
            return;
        }

        NoWebServer = true;
        trafficWait.Skip(TrafficWaitOutcome.SkippedNoServer);
        if (endpoints.Options.ManagementPort is not int port)
        {
            logger.NoWebServer("no probe endpoints (set GracefulShutdown:ManagementPort to serve them)");
            return;
        }

        // An empty web application: no configuration sources, no console lifetime of its own (the outer host's signals decide),
        // the outer host's logging, Kestrel on the management port, and the library's endpoints as the whole pipeline.
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.AddLogging();
        builder.Services.AddSingleton<IHostLifetime, OuterHostLifetime>();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.ListenAnyIP(port);
        });
        WebApplication server = builder.Build();
        server.Run(context => endpoints.Match(context) is RequestDelegate handler ? handler(context) : NotFound(context));
        await server.StartAsync(cancellationToken).ConfigureAwait(false);
        _server = server;
        GracefulShutdownEndpointOptions paths = endpoints.Options.Endpoints;
        logger.NoWebServer(string.Create(CultureInfo.InvariantCulture,
            $"probes and preStop on port {port} ({paths.StartupPath}, {paths.ReadinessPath}, {paths.LivenessPath}, {paths.PreStopPath})"));
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _server, null) is WebApplication server)
        {
            try
            {
                await server.StopAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                await server.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static Task NotFound(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status404NotFound;
        return Task.CompletedTask;
    }

    /// <summary>The listener's own host lifetime: it starts and stops with the outer host, never on a signal of its own.</summary>
    private sealed class OuterHostLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
