using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace GracefulShutdown.WorkerSample;

/// <summary>
/// The baseline's /health/ready on GracefulShutdown:ManagementPort (200 while consuming, 503 once the host stops), so a harness
/// can wait for both modes the same way. What a plain Worker Service would add by hand.
/// </summary>
internal sealed class PlainManagementPort(IConfiguration configuration, PlainReadiness readiness) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (configuration.GetValue<int?>("GracefulShutdown:ManagementPort") is not int port)
        {
            return;
        }

        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://+:{port}/");
        listener.Start();
        using CancellationTokenRegistration stop = stoppingToken.Register(listener.Stop);
        while (!stoppingToken.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }

            bool ready = context.Request.Url?.AbsolutePath == "/health/ready" && readiness.Ready;
            context.Response.StatusCode = context.Request.Url?.AbsolutePath == "/health/ready" ? (ready ? 200 : 503) : 404;
            context.Response.Close();
        }
    }
}
