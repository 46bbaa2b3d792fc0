namespace GracefulShutdown;

/// <summary>
/// What happens to long-lived connections (WebSockets, SignalR, server-sent events, long polls) when the traffic wait is over,
/// bound from <c>GracefulShutdown:Connections</c>.
/// </summary>
/// <remarks>
/// The close counts within <see cref="GracefulShutdownOptions.DrainTimeout"/>: the drain begins when the traffic wait ends, long-lived
/// connections close first (at most <see cref="CloseTimeout"/>), then the server stops and in-flight requests get what is left.
/// Server-sent events, long polls and streaming responses end on <see cref="IGracefulShutdown.TrafficWaitEnded"/>, which fires at
/// the same moment.
/// </remarks>
public class LongLivedConnectionOptions
{
    /// <summary>
    /// Gets or sets a value indicating whether the library closes the WebSockets the application accepted (SignalR's included)
    /// with 1001 ("going away") when the traffic wait is over. An endpoint can opt out with <c>DisableGracefulWebSocketClose()</c>.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool CloseWebSockets { get; set; } = true;

    /// <summary>
    /// Gets or sets the window over which the closes are spread, with jitter, so that clients do not all reconnect at once.
    /// </summary>
    /// <value>The default value is 2 seconds. Zero (all at once) or more, at most <see cref="CloseTimeout"/>.</value>
    public TimeSpan CloseWindow { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Gets or sets the longest time from the end of the traffic wait until the closing handshakes are done; WebSockets still open
    /// then are aborted, and the host stops (ApplicationStopping, then the server drain).
    /// </summary>
    /// <value>
    /// The default value is 5 seconds. At least <see cref="CloseWindow"/>, greater than zero, and at most
    /// <see cref="GracefulShutdownOptions.DrainTimeout"/> minus <see cref="GracefulShutdownOptions.DrainCancellationLead"/>.
    /// </value>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
