using GracefulShutdown;
using GracefulShutdown.Checkers;
using GracefulShutdown.Connections;
using GracefulShutdown.Diagnostics;
using GracefulShutdown.Endpoints;
using GracefulShutdown.Hosting;
using GracefulShutdown.Lifecycle;
using GracefulShutdown.Signals;
using GracefulShutdown.Startup;
using GracefulShutdown.Work;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
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
        if (AddCore(services))
        {
            services.AddOptions<GracefulShutdownOptions>().BindStrictly(GracefulShutdownOptions.SectionName);
        }

        return new GracefulShutdownBuilder(services);
    }

    /// <summary>Registers the services once. Returns whether this call registered them.</summary>
    private static bool AddCore(IServiceCollection services)
    {
        // From here on a signal during start-up leads to an orderly stop instead of killing the process.
        ProcessSignals.EnsureRegistered();
        if (services.Any(static d => d.ServiceType == typeof(GracefulShutdownMarker)))
        {
            return false;
        }

        services.AddSingleton<GracefulShutdownMarker>();
        services.AddOptions<GracefulShutdownOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GracefulShutdownOptions>, GracefulShutdownOptionsValidator>());

        // One budget: the host's shared stop token covers the traffic wait, the drain and the stop work after it, from the drain's
        // start (the conductor sets what is left of it when a signal or preStop makes the host stop after the wait).
        services.TryAddSingleton<ShutdownBudgetSource>();
        services.AddOptions<HostOptions>().PostConfigure<ShutdownBudgetSource>(static (host, budget) =>
            host.ShutdownTimeout = budget.Current.StopDeadline);

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(KubernetesEnvironment.FromProcess());
        services.AddLogging();
        services.AddMetrics();
        services.AddHealthChecks();

        // Diagnostics: the phases tell the observer what happened; it writes the logs, the instruments and the report.
        services.TryAddSingleton<GracefulShutdownMetrics>();
        services.TryAddSingleton<ShutdownReport>();
        services.TryAddSingleton<IGracefulShutdownReport>(static sp => sp.GetRequiredService<ShutdownReport>());
        services.TryAddSingleton<ShutdownObserver>();

        // Lifecycle: state → traffic wait → drain participants → server drain, in the order the conductor holds.
        services.TryAddSingleton<LifecycleState>();
        services.TryAddSingleton<RequestTracker>();
        services.TryAddSingleton<TrafficHistory>();
        services.TryAddSingleton<HealthCheckerLedger>();
        services.TryAddSingleton<TrafficRoutes>();
        services.TryAddSingleton<IGracefulShutdownRoutes>(static sp => sp.GetRequiredService<TrafficRoutes>());
        services.TryAddSingleton<TrafficWait>();
        services.TryAddSingleton<ServerDrain>();
        services.TryAddSingleton<ShutdownConductor>();
        services.TryAddSingleton<GracefulShutdownService>();
        services.TryAddSingleton<IGracefulShutdown>(static sp => sp.GetRequiredService<GracefulShutdownService>());

        // Drain participants: each runs once the traffic wait is over, before the server drain, on every path.
        services.TryAddSingleton<WebSocketRegistry>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IDrainParticipant, LongLivedConnectionCloser>());

        // Work in progress: waited for alongside the server drain.
        services.TryAddSingleton<WorkTracker>();
        services.TryAddSingleton<WorkDrain>();

        // Signals: the host stops once the wait is over, so ApplicationStopping fires after it.
        DeferHostLifetimeStop(services);

        // Endpoints.
        services.TryAddSingleton<ProbeStatus>();
        services.TryAddSingleton<IGracefulShutdownProbes>(static sp => sp.GetRequiredService<ProbeStatus>());
        services.TryAddSingleton<ProbeEndpoints>();
        services.TryAddSingleton<PreStopEndpoint>();
        services.TryAddSingleton<PreStopWatchdog>();
        services.TryAddSingleton<LifecycleEndpoints>();
        services.TryAddSingleton<HealthCheckerRequests>();
        services.TryAddSingleton<EndpointStartupChecks>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStartupFilter, GracefulShutdownStartupFilter>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<KestrelServerOptions>, DrainConnectionMarker>());

        // Hosted services, in the order the host starts them. The management listener (hosts without a web server only) starts
        // first and stops last, so its readiness answers through the whole drain.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ManagementListener>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, TcpProbePorts>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, SignalHandling>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, LifecycleHostedService>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, StartupGates>());
        return true;
    }

    /// <summary>
    /// The host's lifetime (ConsoleLifetime) answers SIGTERM, SIGINT and SIGQUIT with <c>StopApplication()</c>, which fires
    /// ApplicationStopping at once: SignalR would close its connections while load balancers still route here. Built with an
    /// application lifetime whose <c>StopApplication()</c> defers to the library, it stops the host after the traffic wait.
    /// A lifetime registered after this call, or by a factory, keeps .NET's behaviour.
    /// </summary>
    private static void DeferHostLifetimeStop(IServiceCollection services)
    {
        ServiceDescriptor? descriptor = services.LastOrDefault(static d => d.ServiceType == typeof(IHostLifetime));
        if (descriptor is { IsKeyedService: false, Lifetime: ServiceLifetime.Singleton, ImplementationType: Type type } &&
            type.GetConstructors().Any(static c => c.GetParameters().Any(static p => p.ParameterType == typeof(IHostApplicationLifetime))))
        {
            services.AddSingleton<IHostLifetime>(sp => (IHostLifetime)ActivatorUtilities.CreateInstance(sp, type,
                new DeferringApplicationLifetime(sp.GetRequiredService<IHostApplicationLifetime>(), sp.GetRequiredService<ShutdownConductor>())));
        }
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
    /// Adds the graceful shutdown lifecycle with options bound from <paramref name="configuration"/> instead of the
    /// <c>GracefulShutdown</c> section.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The configuration section to bind, e.g. <c>builder.Configuration.GetSection("Shutdown")</c>.</param>
    /// <returns>A builder to chain start-up gates and add-ons on.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <remarks>
    /// Unknown keys in the section fail start-up. If the parameterless overload already ran, the <c>GracefulShutdown</c> section
    /// stays bound and <paramref name="configuration"/> is bound over it.
    /// </remarks>
    public static IGracefulShutdownBuilder AddGracefulShutdown(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        AddCore(services);
        services.AddOptions<GracefulShutdownOptions>().Configure<IEnumerable<ClaimedSection>>((options, claimed) =>
            StrictConfigurationBinder.Bind(configuration, options, claimed, []));
        return new GracefulShutdownBuilder(services);
    }
}
