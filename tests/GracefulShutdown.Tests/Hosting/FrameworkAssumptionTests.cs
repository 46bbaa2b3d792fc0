using System.Reflection;
using GracefulShutdown.Endpoints;
using GracefulShutdown.Lifecycle;
using GracefulShutdown.Signals;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging;

namespace GracefulShutdown.Tests.Hosting;

/// <summary>
/// The places the library relies on framework behaviour that is not a documented contract. Each test names the assumption and fails loudly when a .NET update
/// breaks it, instead of the feature silently turning itself off (both code paths degrade quietly by design).
/// </summary>
public sealed class FrameworkAssumptionTests
{
    private static readonly TimeSpan Safety = TimeSpan.FromSeconds(30);

    // DrainConnectionMarker: KestrelServerOptions keeps ConfigureEndpointDefaults' action in a non-public property.

    [Fact]
    public void KestrelServerOptions_KeepsTheEndpointDefaultsAction_InANonPublicPropertyNamedEndpointDefaults()
    {
        PropertyInfo? property = typeof(KestrelServerOptions).GetProperty("EndpointDefaults", BindingFlags.Instance | BindingFlags.NonPublic);

        Assert.True(property is not null,
            "KestrelServerOptions has no non-public instance property 'EndpointDefaults' any more: DrainConnectionMarker can no longer " +
            "compose with the app's ConfigureEndpointDefaults, and HTTP/2 connections opened while draining are no longer marked.");
        Assert.Equal(typeof(Action<ListenOptions>), property.PropertyType);
        Assert.True(property.CanRead, "KestrelServerOptions.EndpointDefaults has no getter");

        // It really is what ConfigureEndpointDefaults sets.
        var options = new KestrelServerOptions();
        Action<ListenOptions> configure = static _ => { };
        options.ConfigureEndpointDefaults(configure);
        Assert.Same(configure, property.GetValue(options));
    }

    [Fact]
    public async Task AfterThePostConfigure_TheAppsEndpointDefaultsStillRun_AndConnectionsOpenedWhileDrainingAreMarked()
    {
        int appDefaultsApplied = 0;
        int appConnectionMiddlewareRuns = 0;
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();

        // Bound from a URL, as in a container (ASPNETCORE_URLS / ASPNETCORE_HTTP_PORTS): Kestrel applies the endpoint defaults when
        // it binds, after every post-configure. (An endpoint added in code with KestrelServerOptions.Listen* gets the defaults at that
        // call, before any post-configure, so its connections are not marked.)
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(k => k.ConfigureEndpointDefaults(listen =>
        {
            Interlocked.Increment(ref appDefaultsApplied);
            listen.Use(next => connection =>
            {
                Interlocked.Increment(ref appConnectionMiddlewareRuns);
                return next(connection);
            });
        }));
        builder.Services.AddGracefulShutdown(o =>
        {
            // Longer than the test: the wait is skipped at the end.
            o.TrafficWait.Minimum = TimeSpan.FromSeconds(15);
            o.TrafficWait.Maximum = TimeSpan.FromSeconds(15);
        });
        await using WebApplication app = builder.Build();
        app.MapGet("/marked", static (HttpContext context) =>
            context.Features.Get<DrainConnectionMarker.OpenedWhileDraining>() is null ? "no" : "yes");
        await app.StartAsync();
        try
        {
            var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
            string before = await GetOnNewConnectionAsync(address);
            int connectionsBefore = Volatile.Read(ref appConnectionMiddlewareRuns);
            app.Services.GetRequiredService<GracefulShutdownService>().BeginDrain(DrainTrigger.StopApplication);
            string during = await GetOnNewConnectionAsync(address);

            Assert.Equal(1, appDefaultsApplied);
            Assert.Equal(1, connectionsBefore);
            Assert.Equal(2, Volatile.Read(ref appConnectionMiddlewareRuns));
            Assert.Equal("no", before);
            Assert.True(during == "yes",
                "A connection opened while draining is not marked OpenedWhileDraining: DrainConnectionMarker no longer hooks Kestrel's " +
                "endpoint defaults, so HTTP/2 connections a balancer opens during the drain get GOAWAY again (connection churn).");
        }
        finally
        {
            app.Services.GetRequiredService<TrafficWait>().Skip(TrafficWaitOutcome.SkippedBySecondSignal);
            await app.StopAsync().WaitAsync(Safety);
        }
    }

    private static async Task<string> GetOnNewConnectionAsync(Uri address)
    {
        using var client = new HttpClient { BaseAddress = address };
        return await client.GetStringAsync(new Uri("/marked", UriKind.Relative));
    }

    // DeferHostLifetimeStop: the host registers its IHostLifetime as a singleton by implementation type whose constructor takes the
    // IHostApplicationLifetime, so the library can build the same type with an application lifetime that defers StopApplication().

    public static TheoryData<string> Builders => ["Host.CreateApplicationBuilder", "WebApplication.CreateBuilder"];

    [Theory]
    [MemberData(nameof(Builders))]
    public void TheHostBuilder_RegistersItsLifetime_AsASingletonImplementationType_TakingIHostApplicationLifetime(string kind)
    {
        (IServiceCollection services, _) = CreateBuilder(kind);

        ServiceDescriptor descriptor = services.Last(static d => d.ServiceType == typeof(IHostLifetime));

        Assert.False(descriptor.IsKeyedService);
        Assert.Equal(ServiceLifetime.Singleton, descriptor.Lifetime);
        Assert.True(descriptor.ImplementationType is not null,
            $"{kind} no longer registers IHostLifetime by implementation type (factory: {descriptor.ImplementationFactory is not null}, " +
            $"instance: {descriptor.ImplementationInstance is not null}): DeferHostLifetimeStop leaves it alone, and a SIGTERM then fires " +
            "ApplicationStopping at the drain start again.");
        Assert.Equal(typeof(ConsoleLifetime), descriptor.ImplementationType);
        Assert.Contains(descriptor.ImplementationType.GetConstructors(),
            static c => c.GetParameters().Any(static p => p.ParameterType == typeof(IHostApplicationLifetime)));
    }

    [Theory]
    [MemberData(nameof(Builders))]
    public async Task TheResolvedHostLifetime_IsTheHostsConsoleLifetime_BuiltByTheLibrary_SoItsStopApplicationIsDeferred(string kind)
    {
        (IServiceCollection services, Func<IHost> build) = CreateBuilder(kind);
        services.AddGracefulShutdown();
        using IHost host = build();

        IHostLifetime lifetime = host.Services.GetRequiredService<IHostLifetime>();
        Assert.IsType<ConsoleLifetime>(lifetime);

        // ConsoleLifetime calls its IHostApplicationLifetime's StopApplication() on SIGTERM, SIGINT, SIGQUIT and process exit.
        IHostApplicationLifetime[] held = [.. typeof(ConsoleLifetime)
            .GetFields(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public)
            .Where(static f => typeof(IHostApplicationLifetime).IsAssignableFrom(f.FieldType))
            .Select(f => (IHostApplicationLifetime)f.GetValue(lifetime)!)];
        IHostApplicationLifetime stopPath = Assert.Single(held);
        Assert.True(stopPath is DeferringApplicationLifetime,
            $"The host's ConsoleLifetime holds {stopPath.GetType()}, not the library's DeferringApplicationLifetime: DeferHostLifetimeStop " +
            "did not rebuild it, so a SIGTERM fires ApplicationStopping at the drain start instead of after the traffic wait.");

        // The stop it asks for begins the drain and stops the host only once the traffic wait is over.
        LifecycleState state = host.Services.GetRequiredService<LifecycleState>();
        state.MarkHostStarted();
        state.MarkStartupWorkDone(0);
        IHostApplicationLifetime application = host.Services.GetRequiredService<IHostApplicationLifetime>();
        var stopping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using CancellationTokenRegistration registration = application.ApplicationStopping.Register(stopping.SetResult);

        stopPath.StopApplication();
        GracefulShutdownPhase phase = state.Phase;
        bool stoppingAtOnce = application.ApplicationStopping.IsCancellationRequested;
        host.Services.GetRequiredService<TrafficWait>().Skip(TrafficWaitOutcome.SkippedBySecondSignal);
        await stopping.Task.WaitAsync(Safety);

        Assert.Equal(GracefulShutdownPhase.Draining, phase);
        Assert.Equal(DrainTrigger.HostLifetime, state.Trigger);
        Assert.False(stoppingAtOnce, "ApplicationStopping fired before the traffic wait was over");
    }

    private static (IServiceCollection Services, Func<IHost> Build) CreateBuilder(string kind)
    {
        if (kind == "Host.CreateApplicationBuilder")
        {
            HostApplicationBuilder host = Host.CreateApplicationBuilder();
            host.Logging.ClearProviders();
            return (host.Services, host.Build);
        }

        WebApplicationBuilder web = WebApplication.CreateBuilder();
        web.Logging.ClearProviders();
        return (web.Services, web.Build);
    }
    // ShutdownConductor: on a signal or preStop the host is told to stop only after the traffic wait, with HostOptions.ShutdownTimeout
    // set then to what is left of the budget. That works only while the host reads the timeout when its StopAsync begins.

    [Fact]
    public async Task TheHost_ReadsHostOptionsShutdownTimeout_WhenItsStopBegins_NotWhenItIsBuilt()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromDays(1));
        var stopWork = new TokenBoundStopWork();
        builder.Services.AddSingleton<IHostedService>(stopWork);
        using IHost host = builder.Build();
        await host.StartAsync();

        // What the conductor does before StopApplication(): the host's own options instance gets the rest of the budget.
        host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<HostOptions>>().Value.ShutdownTimeout = TimeSpan.Zero;
        Task stopping = host.StopAsync();
        bool tokenFired = await stopWork.TokenFired.WaitAsync(Safety);
        await stopping.WaitAsync(Safety);

        Assert.True(tokenFired,
            "The host did not use HostOptions.ShutdownTimeout as it was when its stop began: the library can no longer bound the stop " +
            "work by the budget from the drain's start, and a signal's stop could outlive terminationGracePeriodSeconds.");
    }

    private sealed class TokenBoundStopWork : IHostedService
    {
        private readonly TaskCompletionSource<bool> _fired = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<bool> TokenFired => _fired.Task;

        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public async Task StopAsync(CancellationToken cancellationToken)
        {
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                _fired.TrySetResult(true);
            }
        }
    }
}
