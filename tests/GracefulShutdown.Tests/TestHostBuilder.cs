using GracefulShutdown.Hosting;
using GracefulShutdown.Lifecycle;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace GracefulShutdown.Tests;

/// <summary>A WebApplication on TestServer with the library, fake time and an app route.</summary>
internal static class TestHostBuilder
{
    public static async Task<WebApplication> StartAsync(
        FakeTimeProvider time,
        Action<GracefulShutdownOptions>? configure = null,
        Action<IServiceCollection>? services = null,
        Action<WebApplication>? map = null,
        Dictionary<string, string?>? configuration = null,
        bool kubernetes = false)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        if (configuration is not null)
        {
            builder.Configuration.AddInMemoryCollection(configuration);
        }

        builder.Services.AddSingleton<TimeProvider>(time);
        builder.Services.AddSingleton(new KubernetesEnvironment(kubernetes));
        builder.Services.AddGracefulShutdown(options =>
        {
            // A fixed 5 s wait unless a test says otherwise: these tests are about the endpoints, not the wait's evidence.
            options.TrafficWait.Minimum = TimeSpan.FromSeconds(5);
            options.TrafficWait.Maximum = TimeSpan.FromSeconds(5);
            configure?.Invoke(options);
        });
        services?.Invoke(builder.Services);

        WebApplication app = builder.Build();
        map?.Invoke(app);
        app.MapGet("/", () => "hello");
        await app.StartAsync();
        return app;
    }

    public static LifecycleState Lifecycle(this WebApplication app) => app.Services.GetRequiredService<LifecycleState>();

    public static GracefulShutdownService Shutdown(this WebApplication app) => app.Services.GetRequiredService<GracefulShutdownService>();

    public static TrafficWait TrafficWait(this WebApplication app) => app.Services.GetRequiredService<TrafficWait>();

    /// <summary>Stops without waiting on fake time: the traffic wait is skipped.</summary>
    public static async Task StopNowAsync(this WebApplication app)
    {
        app.Shutdown().BeginDrain(DrainTrigger.StopApplication);
        app.TrafficWait().Skip(TrafficWaitOutcome.SkippedBySecondSignal);
        await app.StopAsync().WaitAsync(TimeSpan.FromSeconds(10));
        await app.DisposeAsync();
    }
}
