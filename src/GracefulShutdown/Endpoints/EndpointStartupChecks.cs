using GracefulShutdown.Diagnostics;
using GracefulShutdown.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulShutdown.Endpoints;

/// <summary>Start-up warnings about endpoint settings that would make kubelet's calls fail.</summary>
internal sealed class EndpointStartupChecks(
    IOptions<GracefulShutdownOptions> options,
    KubernetesEnvironment kubernetes,
    IServiceProvider services,
    ILogger<EndpointStartupChecks> logger)
{
    public void WarnBeforeStart()
    {
        GracefulShutdownOptions o = options.Value;
        if (o.ManagementPort is null && string.IsNullOrEmpty(o.PreStop.Token))
        {
            bool loopback = PreStopEndpoint.LoopbackAllowed(o.PreStop, kubernetes);
            logger.PreStopLoopbackOnly(kubernetes.IsKubernetes && o.PreStop.AllowLoopback != true ? LogLevel.Warning : LogLevel.Information,
                o.Endpoints.PreStopPath, loopback ? "accepts only loopback callers" : kubernetes.IsKubernetes
                    ? "refuses every caller: inside Kubernetes, loopback callers may be anyone behind a same-pod proxy or mesh sidecar"
                    : "refuses every caller (GracefulShutdown:PreStop:AllowLoopback is false)");
        }
    }

    /// <summary>Once the server listens: is the management port among its addresses?</summary>
    public void WarnAfterStart()
    {
        if (options.Value.ManagementPort is not int port ||
            services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>() is not { } addresses)
        {
            return;
        }

        foreach (string address in addresses.Addresses)
        {
            if (ServerAddress.TryParse(address)?.Port == port)
            {
                return;
            }
        }

        logger.ManagementPortNotBound(port, string.Join(", ", addresses.Addresses));
    }
}
