using GracefulShutdown;
using GracefulShutdown.RabbitMQ;
using GracefulShutdown.RabbitMQ.Consuming;
using GracefulShutdown.RabbitMQ.Diagnostics;
using GracefulShutdown.RabbitMQ.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds RabbitMQ consumers that follow the intake contract of the graceful shutdown lifecycle.</summary>
public static class RabbitMQGracefulShutdownBuilderExtensions
{
    /// <summary>
    /// Adds a RabbitMQ consumer named <paramref name="name"/>: it cancels its consumer when the drain begins, handles each delivery
    /// as a unit of work the stop waits for (<see cref="IGracefulShutdown.BeginWork"/>), acks a delivery after
    /// <paramref name="handler"/> succeeded (nacks it per <see cref="RabbitMQConsumerOptions.OnFailure"/> when it throws), gives back
    /// the deliveries it received but did not start, and closes its channel and connection after the last ack, within the budget.
    /// </summary>
    /// <param name="builder">The builder <c>AddGracefulShutdown()</c> returned.</param>
    /// <param name="name">The consumer's name: its configuration section <c>GracefulShutdown:RabbitMQ:name</c>, its unit of work, its health check.</param>
    /// <param name="handler">Handles one delivery; its token fires at the drain deadline. Throwing nacks the delivery.</param>
    /// <param name="configure">Configures the options in code, after the section is bound.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> or <paramref name="handler"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty or white space, or a consumer of that name exists.</exception>
    public static IGracefulShutdownBuilder AddRabbitMQConsumer(this IGracefulShutdownBuilder builder, string name,
        Func<IServiceProvider, RabbitMQDelivery, CancellationToken, Task> handler, Action<RabbitMQConsumerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(handler);
        IServiceCollection services = builder.Services;
        if (services.Any(d => d.IsKeyedService && d.ServiceType == typeof(RabbitMQConsumer) && Equals(d.ServiceKey, name)))
        {
            throw new ArgumentException($"A RabbitMQ consumer named '{name}' is already added.", nameof(name));
        }

        OptionsBuilder<RabbitMQConsumerOptions> options = services.AddOptions<RabbitMQConsumerOptions>(name)
            .BindStrictly(RabbitMQConsumerOptions.SectionPrefix + name);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RabbitMQConsumerOptions>, RabbitMQConsumerOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<RabbitMQMetrics>();
        services.AddKeyedSingleton(name, (sp, _) => new RabbitMQConsumer(name,
            sp.GetRequiredService<IOptionsMonitor<RabbitMQConsumerOptions>>().Get(name),
            (delivery, cancellationToken) => handler(sp, delivery, cancellationToken),
            sp.GetRequiredService<IGracefulShutdown>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<RabbitMQMetrics>(),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("GracefulShutdown.RabbitMQ")));
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredKeyedService<RabbitMQConsumer>(name));
        services.AddHealthChecks().Add(new HealthCheckRegistration("rabbitmq:" + name,
            sp => sp.GetRequiredService<IOptionsMonitor<RabbitMQConsumerOptions>>().Get(name).IncludeInReadiness
                ? new RabbitMQConnectionHealthCheck(sp.GetRequiredKeyedService<RabbitMQConsumer>(name))
                : new AlwaysHealthy(),
            HealthStatus.Unhealthy, [GracefulShutdownTags.Ready]));
        return builder;
    }

    private sealed class AlwaysHealthy : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(HealthCheckResult.Healthy());
    }
}
