using GracefulShutdown;
using GracefulShutdown.Eureka;
using GracefulShutdown.Eureka.Client;
using GracefulShutdown.Eureka.Configuration;
using GracefulShutdown.Eureka.Diagnostics;
using GracefulShutdown.Eureka.Health;
using GracefulShutdown.Eureka.Registration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Adds Eureka registration to the graceful shutdown lifecycle.
/// </summary>
public static class EurekaGracefulShutdownBuilderExtensions
{
    /// <summary>
    /// Registers this instance with Eureka and keeps the registration in step with the lifecycle: STARTING once the host has
    /// started, UP when the application is ready, OUT_OF_SERVICE as soon as the drain begins (heartbeats continue through the
    /// traffic wait), and deregistered after the server has drained. Options bind from <c>eureka:client</c> and
    /// <c>eureka:instance</c> (Steeltoe's keys); see <see cref="EurekaClientOptions"/> and <see cref="EurekaInstanceOptions"/>.
    /// </summary>
    /// <param name="builder">The builder returned by <c>AddGracefulShutdown()</c>.</param>
    /// <returns>The value of <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    /// <remarks>
    /// <para>This operation is idempotent.</para>
    /// <para>
    /// With no <c>eureka:client:serviceUrl</c> the client stays off: it logs one line and makes no calls. Invalid options fail
    /// start-up with an <see cref="OptionsValidationException"/> naming the key and value. Eureka being down or slow never fails or
    /// delays start-up, readiness or shutdown: calls are bounded by <c>eureka:client:requestTimeoutSeconds</c> and retried in the background.
    /// </para>
    /// <para>
    /// Adds a health check named and tagged <see cref="EurekaHealthChecks.Name"/> (never Unhealthy), metrics on the meter
    /// <c>GracefulShutdown.Eureka</c>, and the named <see cref="HttpClient"/> <c>GracefulShutdown.Eureka</c>, which can be
    /// configured further with <c>services.AddHttpClient("GracefulShutdown.Eureka")</c> (e.g. a client certificate).
    /// </para>
    /// </remarks>
    public static IGracefulShutdownBuilder AddEureka(this IGracefulShutdownBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        IServiceCollection services = builder.Services;
        if (services.Any(static d => d.ServiceType == typeof(Marker)))
        {
            return builder;
        }

        services.AddSingleton<Marker>();
        // Strict like every package, but Steeltoe's settings for what this client does not do (it fetches no registry) are
        // accepted and ignored, so that an existing Steeltoe configuration starts as it is.
        services.AddOptions<EurekaClientOptions>().BindStrictly(EurekaClientOptions.SectionName, SteeltoeClientKeys).ValidateOnStart();
        services.AddOptions<EurekaInstanceOptions>().BindStrictly(EurekaInstanceOptions.SectionName, SteeltoeInstanceKeys).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EurekaClientOptions>, EurekaClientOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EurekaInstanceOptions>, EurekaInstanceOptionsValidator>());

        // Timeouts come from our own TimeProvider-based token; HttpClient's real-time 100 s default must not cut in first.
        services.AddHttpClient(EurekaHttpClient.HttpClientName, static client => client.Timeout = Timeout.InfiniteTimeSpan);

        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.TryAddSingleton<EurekaRegistrationState>();
        services.TryAddSingleton<EurekaMetrics>();
        services.TryAddSingleton<EurekaHttpClient>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, EurekaRegistrationService>());
        services.AddHealthChecks().AddCheck<EurekaHealthCheck>(EurekaHealthChecks.Name, tags: [EurekaHealthChecks.Tag]);
        return builder;
    }

    // Steeltoe's eureka:client settings for fetching the registry and its HTTP client, which this client does not use.
    private static readonly string[] SteeltoeClientKeys =
    [
        "shouldFetchRegistry", "registryFetchIntervalSeconds", "shouldFilterOnlyUpInstances", "shouldDisableDelta",
        "shouldOnDemandUpdateStatusChange", "validateCertificates", "eurekaServer", "health", "accessTokenUri", "clientId",
        "clientSecret", "instanceInfoReplicationIntervalSeconds", "eurekaServerConnectTimeoutSeconds", "eurekaServerRetryCount",
    ];

    // Steeltoe's eureka:instance settings this client derives itself or does not register.
    private static readonly string[] SteeltoeInstanceKeys =
    [
        "registrationMethod", "nonSecurePortEnabled", "securePortEnabled", "instanceEnabledOnInit", "homePageUrlPath", "homePageUrl",
        "statusPageUrl", "healthCheckUrl", "secureHealthCheckUrl", "asgName", "dataCenterInfo", "useNetworkInterfaces",
    ];

    /// <summary>Marks that the Eureka services are registered, so <c>AddEureka()</c> runs once.</summary>
    private sealed class Marker;
}
