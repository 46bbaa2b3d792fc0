using GracefulShutdown.Lifecycle;
using Microsoft.Extensions.Hosting;

namespace GracefulShutdown.Signals;

/// <summary>
/// The application lifetime the host's own <c>IHostLifetime</c> (ConsoleLifetime, which answers SIGTERM, SIGINT and SIGQUIT) is
/// built with: its <c>StopApplication()</c> asks the <see cref="ShutdownConductor"/> to stop after the traffic wait; everything
/// else is the real lifetime.
/// </summary>
internal sealed class DeferringApplicationLifetime(IHostApplicationLifetime inner, ShutdownConductor conductor) : IHostApplicationLifetime
{
    public CancellationToken ApplicationStarted => inner.ApplicationStarted;

    public CancellationToken ApplicationStopping => inner.ApplicationStopping;

    public CancellationToken ApplicationStopped => inner.ApplicationStopped;

    public void StopApplication() => conductor.RequestStop(DrainTrigger.HostLifetime);
}
