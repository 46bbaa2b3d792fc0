using GracefulShutdown.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GracefulShutdown.Startup;

/// <summary>
/// <c>Sidecar:ReadyUrl</c>: a start-up gate that holds readiness until the pod's proxy sidecar answers 2xx on its readiness
/// endpoint, and the start-up warning when a classic sidecar stops serving before the app's drain after SIGTERM is over.
/// </summary>
internal static class SidecarGate
{
    /// <summary>Istio's readiness port (pilot-agent, <c>/healthz/ready</c>); its proxy drains 5 s by default (<c>terminationDrainDuration</c>).</summary>
    private const int IstioReadyPort = 15021;
    private static readonly TimeSpan s_istioDefaultDrain = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan s_attemptTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Returns the gate when <c>Sidecar:ReadyUrl</c> is set.</summary>
    public static StartupGate? Create(SidecarOptions options) =>
        options.ReadyUrl is Uri url
            ? new StartupGate("sidecar", (services, cancellationToken) => WaitAsync(services, url, options.PollInterval, cancellationToken))
            : null;

    /// <summary>Warns (event 20) when the sidecar's drain time is known and shorter than the app's drain after SIGTERM.</summary>
    public static void WarnIfSidecarStopsFirst(GracefulShutdownOptions options, ILogger logger)
    {
        SidecarOptions sidecar = options.Sidecar;
        (TimeSpan drain, string source) = sidecar.DrainDuration is TimeSpan set
            ? (set, "GracefulShutdown:Sidecar:DrainDuration")
            : sidecar.ReadyUrl?.Port == IstioReadyPort
                ? (s_istioDefaultDrain, "Istio's default terminationDrainDuration, as GracefulShutdown:Sidecar:ReadyUrl is on port 15021")
                : (TimeSpan.MaxValue, "");

        if (options.DrainTimeout + options.StopMargin > drain)
        {
            logger.SidecarDrainShorterThanDrain(drain, source, options.DrainTimeout, options.StopMargin);
        }
    }

    private static async Task WaitAsync(IServiceProvider services, Uri url, TimeSpan interval, CancellationToken cancellationToken)
    {
        TimeProvider time = services.GetRequiredService<TimeProvider>();
        ILogger logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(SidecarGate).FullName!);
        long start = time.GetTimestamp();

        // Straight to loopback: no proxy from HTTP_PROXY, no redirects.
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        while (true)
        {
            using (var attempt = new CancellationTokenSource(s_attemptTimeout, time))
            using (var linked = CancellationTokenSource.CreateLinkedTokenSource(attempt.Token, cancellationToken))
            {
                try
                {
                    using HttpResponseMessage response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, linked.Token)
                        .ConfigureAwait(false);
                    if (response.IsSuccessStatusCode)
                    {
                        logger.SidecarReady(url, (int)response.StatusCode, time.GetElapsedTime(start).TotalSeconds);
                        return;
                    }
                }
                catch (HttpRequestException)
                {
                    // Not listening yet.
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    // This attempt timed out.
                }
            }

            await Task.Delay(interval, time, cancellationToken).ConfigureAwait(false);
        }
    }
}
