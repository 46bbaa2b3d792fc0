using System.Net.WebSockets;
using GracefulShutdown.Connections;
using GracefulShutdown.Endpoints;
using GracefulShutdown.Lifecycle;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebSockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace GracefulShutdown.Tests.Connections;

/// <summary>
/// The library's middleware, then the real WebSocket middleware (as the app's <c>UseWebSockets()</c> or SignalR's), then an
/// endpoint that accepts: the socket is recorded without any change to the endpoint, and the WebSocket middleware's own
/// checks still apply.
/// </summary>
public sealed class WebSocketTrackingTests : IDisposable
{
    private readonly ServiceProvider _provider;
    private readonly WebSocketRegistry _registry = new();

    public WebSocketTrackingTests()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddGracefulShutdown();
        _provider = services.BuildServiceProvider();
        LifecycleState state = _provider.GetRequiredService<LifecycleState>();
        state.MarkHostStarted();
        state.MarkStartupWorkDone(0);
    }

    public void Dispose() => _provider.Dispose();

    [Fact]
    public async Task AcceptedWebSocket_IsRecordedWhileItsRequestRuns_AndForgottenAfter()
    {
        int openWhileServing = -1;
        WebSocket? accepted = null;
        RequestDelegate pipeline = Pipeline(new WebSocketOptions(), async context =>
        {
            Assert.True(context.WebSockets.IsWebSocketRequest);
            accepted = await context.WebSockets.AcceptWebSocketAsync();
            openWhileServing = _registry.Count;
        });

        await pipeline(UpgradeRequest());

        Assert.IsType<TrackedWebSocket>(accepted);
        Assert.Equal(1, openWhileServing);
        Assert.Equal(0, _registry.Count);
    }

    [Fact]
    public async Task TheWebSocketMiddlewaresOriginCheck_StillApplies()
    {
        bool reachedEndpoint = false;
        var options = new WebSocketOptions();
        options.AllowedOrigins.Add("https://allowed.example");
        RequestDelegate pipeline = Pipeline(options, _ =>
        {
            reachedEndpoint = true;
            return Task.CompletedTask;
        });
        DefaultHttpContext context = UpgradeRequest();
        context.Request.Headers.Origin = "https://evil.example";

        await pipeline(context);

        Assert.Equal(StatusCodes.Status403Forbidden, context.Response.StatusCode);
        Assert.False(reachedEndpoint);
        Assert.Equal(0, _registry.Count);
    }

    [Fact]
    public async Task ANormalRequest_SeesTheServersOwnFeatures()
    {
        IHttpUpgradeFeature? seen = null;
        var upgrade = new FakeUpgradeFeature(upgradable: false);
        RequestDelegate pipeline = Pipeline(new WebSocketOptions(), context =>
        {
            seen = context.Features.Get<IHttpUpgradeFeature>();
            return Task.CompletedTask;
        });
        DefaultHttpContext context = UpgradeRequest(upgrade);

        await pipeline(context);

        Assert.Same(upgrade, seen);
    }

    private RequestDelegate Pipeline(WebSocketOptions options, RequestDelegate endpoint)
    {
        var webSockets = new WebSocketMiddleware(endpoint, Options.Create(options), NullLoggerFactory.Instance);
        var middleware = new GracefulShutdownMiddleware(webSockets.Invoke, _provider.GetRequiredService<LifecycleState>(),
            _provider.GetRequiredService<RequestTracker>(), _provider.GetRequiredService<LifecycleEndpoints>(), _registry, _provider);
        return middleware.InvokeAsync;
    }

    private static DefaultHttpContext UpgradeRequest(FakeUpgradeFeature? upgrade = null)
    {
        var context = new DefaultHttpContext();
        context.Features.Set<IHttpUpgradeFeature>(upgrade ?? new FakeUpgradeFeature(upgradable: true));
        context.Request.Method = HttpMethods.Get;
        context.Request.Path = "/ws";
        context.Request.Protocol = HttpProtocol.Http11;
        context.Request.Headers.Connection = "Upgrade";
        context.Request.Headers.Upgrade = "websocket";
        context.Request.Headers.SecWebSocketVersion = "13";
        context.Request.Headers.SecWebSocketKey = "dGhlIHNhbXBsZSBub25jZQ==";
        return context;
    }

    private sealed class FakeUpgradeFeature(bool upgradable) : IHttpUpgradeFeature
    {
        public bool IsUpgradableRequest => upgradable;

        public Task<Stream> UpgradeAsync() => Task.FromResult<Stream>(new MemoryStream());
    }
}
