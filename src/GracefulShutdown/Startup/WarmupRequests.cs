using GracefulShutdown.Diagnostics;
using GracefulShutdown.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulShutdown.Startup;

/// <summary>
/// A start-up gate that sends GET requests to the app's own endpoints over loopback before readiness turns 200, so that
/// routing, endpoint construction and the handlers' JIT happen before the first real caller arrives rather than on its time.
/// </summary>
/// <remarks>Best effort: a failing or slow warm-up request is logged and never keeps the app unready.</remarks>
internal static class WarmupRequests
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    public static async Task RunAsync(IServiceProvider services, IReadOnlyList<string> paths, CancellationToken cancellationToken)
    {
        ILogger logger = services.GetRequiredService<ILogger<StartupGates>>();
        TimeProvider time = services.GetRequiredService<TimeProvider>();
        int? managementPort = services.GetRequiredService<IOptions<GracefulShutdownOptions>>().Value.ManagementPort;
        ICollection<string> addresses = services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        if (BaseAddress(addresses, managementPort) is not Uri baseAddress)
        {
            logger.WarmupSkipped(string.Join(", ", addresses));
            return;
        }

        using var handler = new SocketsHttpHandler
        {
            // Our own server over loopback: its development or internal certificate need not be trusted for a warm-up.
            SslOptions = { RemoteCertificateValidationCallback = static (_, _, _, _) => true },
            AllowAutoRedirect = false,
        };
        using var client = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = Timeout.InfiniteTimeSpan };
        foreach (string path in paths)
        {
            long start = time.GetTimestamp();
            using var timeout = new CancellationTokenSource(RequestTimeout, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
            try
            {
                using HttpResponseMessage response = await client.GetAsync(new Uri(path, UriKind.Relative), linked.Token).ConfigureAwait(false);
                _ = await response.Content.ReadAsByteArrayAsync(linked.Token).ConfigureAwait(false);
                logger.WarmupRequestCompleted(path, (int)response.StatusCode, time.GetElapsedTime(start).TotalMilliseconds);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
            {
                logger.WarmupRequestFailed(path, ex.Message);
            }
        }
    }

    /// <summary>The first http (else https) address the app serves on (not the management port), with wildcard hosts made loopback.</summary>
    internal static Uri? BaseAddress(IEnumerable<string> addresses, int? managementPort)
    {
        Uri? https = null;
        foreach (string address in addresses)
        {
            if (ServerAddress.TryParse(address) is not BindingAddress binding || binding.Port == managementPort)
            {
                continue;
            }

            // Wildcards and names: our own server is reachable on IPv4 loopback whatever it is bound to.
            var uri = new Uri($"{binding.Scheme}://127.0.0.1:{binding.Port}/");
            if (binding.Scheme == Uri.UriSchemeHttp)
            {
                return uri;
            }

            if (binding.Scheme == Uri.UriSchemeHttps)
            {
                https ??= uri;
            }
        }

        return https;
    }
}
