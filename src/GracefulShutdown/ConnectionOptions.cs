using GracefulShutdown.Hosting;

namespace GracefulShutdown;

/// <summary>
/// What happens to connections while draining, bound from <c>GracefulShutdown:Connections</c>: keep-alive connections close after
/// their response, so pooled clients reconnect elsewhere; long-lived connections (WebSockets, SignalR, server-sent events, long
/// polls) close when the traffic wait is over.
/// </summary>
/// <remarks>
/// The close of long-lived connections counts within <see cref="GracefulShutdownOptions.DrainTimeout"/>: the drain begins when the
/// traffic wait ends, long-lived connections close first (at most <see cref="CloseTimeout"/>), then the server stops and in-flight
/// requests get what is left. Server-sent events, long polls and streaming responses end on
/// <see cref="IGracefulShutdown.TrafficWaitEnded"/>, which fires at the same moment.
/// </remarks>
public class ConnectionOptions
{
    /// <summary>
    /// Gets or sets a value indicating whether responses served while draining close their connection
    /// (<c>Connection: close</c> on HTTP/1.1, GOAWAY on HTTP/2), so that pooled clients reconnect to another replica.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool CloseKeepAliveWhileDraining { get; set; } = true;

    /// <summary>
    /// Gets or sets a value indicating whether the library closes the WebSockets the application accepted (SignalR's included)
    /// with 1001 ("going away") when the traffic wait is over. An endpoint can opt out with <c>DisableGracefulWebSocketClose()</c>.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool CloseWebSockets { get; set; } = true;

    /// <summary>
    /// Gets or sets the window over which the closes are spread, with jitter, so that clients do not all reconnect at once. Advanced.
    /// </summary>
    /// <value>
    /// The default value is 2 seconds. Zero (all at once) or more, at most <see cref="CloseTimeout"/> when that is set. It never runs
    /// past the close timeout: with a short drain timeout it is shortened to fit.
    /// </value>
    [Duration]
    public TimeSpan CloseWindow { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Gets or sets the longest time from the end of the traffic wait until the closing handshakes are done; WebSockets still open
    /// then are aborted, and the host stops (ApplicationStopping, then the server drain with what is left of the drain timeout). Advanced.
    /// </summary>
    /// <value>
    /// The default value is <see langword="null"/>: <see cref="GracefulShutdownOptions.DrainTimeout"/> minus
    /// <see cref="GracefulShutdownOptions.DrainCancellationLead"/>, the moment <see cref="IGracefulShutdown.DrainDeadline"/> fires.
    /// When set: greater than zero, at least <see cref="CloseWindow"/>, and at most that moment. Clients normally answer a close within
    /// milliseconds, so the close rarely takes longer than the window.
    /// </value>
    [Duration(MinimumIsExclusive = true)]
    public TimeSpan? CloseTimeout { get; set; }
}
