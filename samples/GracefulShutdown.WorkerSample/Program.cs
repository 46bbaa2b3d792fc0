using GracefulShutdown.WorkerSample;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// A Worker Service (no web server of the app's own) consuming Worker:Queue and publishing each body to Worker:ResultQueue.
// Sample:UseLibrary=true (default): GracefulShutdown with its RabbitMQ consumer; false: the plain BackgroundService baseline,
// acking as Sample:PlainAck says (manual, the default, or auto).
HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
var settings = WorkerSettings.From(builder.Configuration);
builder.Services.AddSingleton(settings);
builder.Services.AddSingleton<ResultPublisher>();

if (builder.Configuration.GetValue("Sample:UseLibrary", true))
{
    builder.Services.AddGracefulShutdown().AddRabbitMQConsumer("orders",
        (services, delivery, cancellationToken) => OrderProcessing.ProcessAsync(delivery.Channel,
            services.GetRequiredService<ResultPublisher>(), settings, delivery.Body, delivery.Properties, cancellationToken),
        options =>
        {
            options.Url = settings.Url;
            options.Queue = settings.Queue;
            options.Prefetch = settings.Prefetch;
            options.ConfigureChannel = (channel, cancellationToken) => OrderProcessing.DeclareQueuesAsync(channel, settings, cancellationToken);
        });
}
else
{
    builder.Services.AddSingleton<PlainReadiness>();
    builder.Services.AddHostedService<PlainManagementPort>();
    builder.Services.AddHostedService<PlainConsumer>();
}

await builder.Build().RunAsync();
