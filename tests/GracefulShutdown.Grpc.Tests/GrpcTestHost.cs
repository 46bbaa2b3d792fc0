using System.Net;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace GracefulShutdown.Grpc.Tests;

/// <summary>An app with the library and the gRPC add-on on real Kestrel, HTTP/2 on 127.0.0.1 port 0, and a real client channel.</summary>
internal sealed class GrpcTestHost : IAsyncDisposable
{
    private GrpcTestHost(WebApplication app, string address, GrpcChannel channel, LogSink logs)
    {
        App = app;
        Address = new Uri(address);
        Channel = channel;
        Logs = logs;
    }

    public WebApplication App { get; }

    /// <summary>Gets the address Kestrel listens on (h2c: HTTP/2 without TLS, so HTTP clients need prior knowledge).</summary>
    public Uri Address { get; }

    public GrpcChannel Channel { get; }

    public LogSink Logs { get; }

    public IGracefulShutdown Lifecycle => App.Services.GetRequiredService<IGracefulShutdown>();

    public static async Task<GrpcTestHost> StartAsync(Action<IServiceCollection>? services = null, bool mapHealth = true,
        Dictionary<string, string?>? configuration = null, TimeSpan? trafficWait = null)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
        if (configuration is not null)
        {
            builder.Configuration.AddInMemoryCollection(configuration);
        }

        var logs = new LogSink();
        builder.Logging.ClearProviders().AddProvider(logs).AddFilter<LogSink>(null, LogLevel.Debug);
        builder.Services.AddGracefulShutdown(o =>
        {
            // By default the traffic wait ends as soon as the drain begins: the tests trigger it with DrainAsync.
            o.TrafficWait.Minimum = trafficWait ?? TimeSpan.Zero;
            o.TrafficWait.QuietPeriod = TimeSpan.Zero;
            o.TrafficWait.Maximum = trafficWait ?? TimeSpan.FromSeconds(1);
            o.Endpoints.CheckResultCacheDuration = TimeSpan.Zero;
        }).AddGrpc();
        builder.Services.Configure<GrpcShutdownOptions>(o => o.RefreshInterval = TimeSpan.FromMilliseconds(100));
        builder.Services.AddSingleton<HandlerEvents>();
        services?.Invoke(builder.Services);

        WebApplication app = builder.Build();
        app.MapGrpcService<DrainTestService>();
        if (mapHealth)
        {
            app.MapGrpcHealthChecksService();
        }

        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        await app.Services.GetRequiredService<IGracefulShutdown>().WhenReady.WaitAsync(TimeSpan.FromSeconds(30));
        return new GrpcTestHost(app, address, GrpcChannel.ForAddress(address), logs);
    }

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        await App.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
        await App.DisposeAsync();
    }
}
