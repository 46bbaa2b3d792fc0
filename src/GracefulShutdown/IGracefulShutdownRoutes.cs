namespace GracefulShutdown;

/// <summary>
/// Routes to this instance whose withdrawal an add-on can see, such as a service registry's cached view (the Eureka add-on):
/// evidence for the traffic wait beside the arrivals and the load balancers' health checks (docs/traffic-wait.md, "Routes").
/// Once every route added has reported when its callers will have let go, that moment bounds the wait: it ends there, not
/// before <c>TrafficWait:Minimum</c>, when arrivals agree (no request for <c>QuietPeriod</c>), even if <c>TrafficWait:Maximum</c>
/// is later; until then the wait follows the arrivals, the health checkers and <c>Maximum</c> as without routes.
/// </summary>
/// <remarks>
/// Resolve it from dependency injection after calling <c>AddGracefulShutdown()</c>. It is a singleton and thread-safe. A route never
/// lengthens the wait past <c>Maximum</c>, never starts a drain and never cuts a request; without health checkers it can only end
/// the wait sooner than the arrivals would. With health checkers seen before the drain every evidence source must have let go, so
/// a route that reports a moment after the checkers' holds the wait until that moment (up to <c>Maximum</c>). A request that
/// arrives after the moment reported proves that something still routes here: the wait then needs the silence the arrival rule
/// finds conclusive, up to <c>Maximum</c>. Health checkers seen before the drain must have let go too.
/// </remarks>
public interface IGracefulShutdownRoutes
{
    /// <summary>
    /// Adds a route whose callers can reach this instance, e.g. once it is registered <c>UP</c>. While an added route has not reported,
    /// no route bounds the wait. Adding a route twice has no effect.
    /// </summary>
    /// <param name="route">The route's name, e.g. <c>eureka</c>.</param>
    /// <exception cref="ArgumentException"><paramref name="route"/> is <see langword="null"/>, empty or white space.</exception>
    void Add(string route);

    /// <summary>
    /// Reports that every caller reaching this instance through <paramref name="route"/> will have stopped by <paramref name="letGoBy"/>
    /// (on the clock of the application's <see cref="TimeProvider"/>), and adds the route if it was not added. A later report for the
    /// same route replaces the earlier one. Reports before the drain began, or after the traffic wait ended, change nothing.
    /// </summary>
    /// <param name="route">The route's name, e.g. <c>eureka</c>.</param>
    /// <param name="letGoBy">When its callers will have let go.</param>
    /// <exception cref="ArgumentException"><paramref name="route"/> is <see langword="null"/>, empty or white space.</exception>
    void LetGoBy(string route, DateTimeOffset letGoBy);
}
