using GracefulShutdown.Lifecycle;
using Microsoft.Extensions.Hosting;

namespace GracefulShutdown.Signals;

/// <summary>
/// The application lifetime the host's own <c>IHostLifetime</c> (ConsoleLifetime, which answers SIGTERM, SIGINT and SIGQUIT) is
/// built with: its <c>StopApplication()</c> defers the stop to <see cref="DeferredStop"/>; everything else is the real lifetime.
/// </summary>
internal sealed class DeferringApplicationLifetime(IHostApplicationLifetime inner, DeferredStop stop) : IHostApplicationLifetime
{
    public CancellationToken ApplicationStarted => inner.ApplicationStarted;

    public CancellationToken ApplicationStopping => inner.ApplicationStopping;

    public CancellationToken ApplicationStopped => inner.ApplicationStopped;

    public void StopApplication() => stop.Request(DrainTrigger.HostLifetime);
}
