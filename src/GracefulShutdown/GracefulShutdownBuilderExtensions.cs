using GracefulShutdown;
using GracefulShutdown.Startup;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Start-up work chained on <c>AddGracefulShutdown()</c>: gates that hold readiness, and warm-up requests.
/// </summary>
public static class GracefulShutdownBuilderExtensions
{
    /// <summary>
    /// Adds start-up work that holds readiness (and the startup probe) until it completes, e.g. warming a cache.
    /// It starts once the host has started, so probes already answer while it runs.
    /// </summary>
    /// <param name="builder">The builder returned by <c>AddGracefulShutdown()</c>.</param>
    /// <param name="name">A name for logs.</param>
    /// <param name="waitAsync">The work. Its token is canceled if the application stops first. If it throws, the application stays unready and the error is logged.</param>
    /// <returns>The value of <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static IGracefulShutdownBuilder AddStartupGate(this IGracefulShutdownBuilder builder, string name,
        Func<IServiceProvider, CancellationToken, Task> waitAsync)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(waitAsync);
        builder.Services.AddSingleton(new StartupGate(name, waitAsync));
        return builder;
    }

    /// <summary>
    /// Sends GET requests to the app's own endpoints over loopback once the host has started and holds readiness until they
    /// are answered, so that routing, endpoint construction and the handlers' JIT compilation happen before the first real
    /// caller arrives instead of on its time.
    /// </summary>
    /// <param name="builder">The builder returned by <c>AddGracefulShutdown()</c>.</param>
    /// <param name="paths">Paths (with query, if needed) that answer quickly and have no side effects, e.g. <c>"/"</c>.</param>
    /// <returns>The value of <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">A path does not start with <c>/</c>.</exception>
    /// <remarks>
    /// Best effort: each request is bounded to 10 seconds, and a failure is logged (event 9) without keeping the app unready.
    /// The requests go to the first http (else https) address the server listens on, other than the management port.
    /// </remarks>
    public static IGracefulShutdownBuilder AddWarmupRequests(this IGracefulShutdownBuilder builder, params string[] paths)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(paths);
        foreach (string path in paths)
        {
            if (string.IsNullOrEmpty(path) || path[0] != '/')
            {
                throw new ArgumentException($"Warm-up path '{path}' must start with '/'.", nameof(paths));
            }
        }

        string[] copy = [.. paths];
        return builder.AddStartupGate("warm-up requests", (services, cancellationToken) => WarmupRequests.RunAsync(services, copy, cancellationToken));
    }
}
