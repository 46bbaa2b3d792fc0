using GracefulShutdown;
using GracefulShutdown.Internal;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers the graceful shutdown lifecycle: probes, the preStop hook, signal handling, the traffic wait and the drain.
/// </summary>
public static class GracefulShutdownServiceCollectionExtensions
{
    /// <summary>
    /// Adds the graceful shutdown lifecycle, with options bound from the <c>GracefulShutdown</c> configuration section.
    /// The endpoints and middleware are added to the request pipeline automatically.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <returns>A builder to chain start-up gates and add-ons on.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    /// <remarks>
    /// This operation is idempotent. Call it as early as possible: from this call on, a SIGTERM during start-up leads to an
    /// orderly stop once the host has started instead of killing the process. Invalid options fail start-up with
    /// an <see cref="OptionsValidationException"/> that names the keys and values; unknown keys in the section fail it too.
    /// </remarks>
    public static IGracefulShutdownBuilder AddGracefulShutdown(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        ProcessSignals.EnsureRegistered();

        if (services.Any(static d => d.ServiceType == typeof(GracefulShutdownMarker)))
        {
            return new GracefulShutdownBuilder(services);
        }

        services.AddSingleton<GracefulShutdownMarker>();
        services.AddOptions<GracefulShutdownOptions>()
            .BindConfiguration(GracefulShutdownOptions.SectionName, static binder => binder.ErrorOnUnknownConfiguration = true)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GracefulShutdownOptions>, GracefulShutdownOptionsValidator>());

        // One budget: the host's shared stop token must cover the traffic wait, the drain and the stop work after it.
        services.AddOptions<HostOptions>().PostConfigure<IOptions<GracefulShutdownOptions>>(static (host, options) =>
        {
            GracefulShutdownOptions o = options.Value;
            host.ShutdownTimeout = o.TrafficWait.Maximum + o.DrainTimeout + o.StopMargin;
        });

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(KubernetesEnvironment.FromProcess());
        services.AddLogging();
        services.AddMetrics();
        services.AddHealthChecks();
        services.TryAddSingleton<ShutdownCoordinator>();
        services.TryAddSingleton<IGracefulShutdown>(static sp => sp.GetRequiredService<ShutdownCoordinator>());
        services.TryAddSingleton<ProbeStatus>();
        services.TryAddSingleton<IGracefulShutdownProbes>(static sp => sp.GetRequiredService<ProbeStatus>());
        services.TryAddSingleton<LifecycleEndpoints>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, GracefulShutdownHostedService>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStartupFilter, GracefulShutdownStartupFilter>());
        return new GracefulShutdownBuilder(services);
    }

    /// <summary>
    /// Adds the graceful shutdown lifecycle and configures its options in code, after the <c>GracefulShutdown</c> section is bound.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Configures the options.</param>
    /// <returns>A builder to chain start-up gates and add-ons on.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static IGracefulShutdownBuilder AddGracefulShutdown(this IServiceCollection services, Action<GracefulShutdownOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        IGracefulShutdownBuilder builder = services.AddGracefulShutdown();
        services.Configure(configure);
        return builder;
    }

    /// <summary>
    /// Adds the graceful shutdown lifecycle and binds its options from <paramref name="configuration"/> as well.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The configuration section to bind, e.g. <c>builder.Configuration.GetSection("Shutdown")</c>.</param>
    /// <returns>A builder to chain start-up gates and add-ons on.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static IGracefulShutdownBuilder AddGracefulShutdown(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        IGracefulShutdownBuilder builder = services.AddGracefulShutdown();
        services.Configure<GracefulShutdownOptions>(configuration, static binder => binder.ErrorOnUnknownConfiguration = true);
        return builder;
    }

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
