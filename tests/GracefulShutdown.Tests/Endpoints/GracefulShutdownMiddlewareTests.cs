using GracefulShutdown.Connections;
using GracefulShutdown.Endpoints;
using GracefulShutdown.Lifecycle;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulShutdown.Tests.Endpoints;

public sealed class GracefulShutdownMiddlewareTests : IDisposable
{
    private readonly ServiceProvider _provider;
    private readonly LifecycleState _state;
    private readonly RequestTracker _requests;
    private readonly GracefulShutdownService _shutdown;
    private readonly LifecycleEndpoints _endpoints;

    public GracefulShutdownMiddlewareTests()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddGracefulShutdown();
        _provider = services.BuildServiceProvider();
        _state = _provider.GetRequiredService<LifecycleState>();
        _requests = _provider.GetRequiredService<RequestTracker>();
        _shutdown = _provider.GetRequiredService<GracefulShutdownService>();
        _endpoints = _provider.GetRequiredService<LifecycleEndpoints>();
        _state.MarkHostStarted();
        _state.MarkStartupWorkDone(0);
    }

    public void Dispose() => _provider.Dispose();

    private static DefaultHttpContext Request(string path)
    {
        var context = new DefaultHttpContext { RequestServices = null! };
        context.Features.Set<IHttpResponseFeature>(new ServerLikeResponseFeature());
        context.Request.Method = HttpMethods.Get;
        context.Request.Path = path;
        context.Request.Protocol = HttpProtocol.Http11;
        return context;
    }

    private static void CompletedSynchronously(Task task)
    {
        if (!task.IsCompletedSuccessfully)
        {
            throw new Xunit.Sdk.XunitException("The middleware did not complete synchronously.");
        }
    }

    [Fact]
    public void InvokeAsync_AppRequest_AllocatesNothing()
    {
        var middleware = new GracefulShutdownMiddleware(static _ => Task.CompletedTask, _state, _requests, _endpoints, new WebSocketRegistry(), _provider);
        DefaultHttpContext context = Request("/api/orders");
        var response = (ServerLikeResponseFeature)context.Features.Get<IHttpResponseFeature>()!;
        for (int i = 0; i < 100; i++)
        {
            CompletedSynchronously(middleware.InvokeAsync(context));
            response.Complete();
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            CompletedSynchronously(middleware.InvokeAsync(context));
            response.Complete();
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal(0, _requests.InFlight);
    }

    [Fact]
    public async Task InvokeAsync_AsynchronousRequest_CountsItInFlightUntilTheResponseCompletes()
    {
        var release = new TaskCompletionSource();
        var middleware = new GracefulShutdownMiddleware(_ => release.Task, _state, _requests, _endpoints, new WebSocketRegistry(), _provider);
        DefaultHttpContext context = Request("/slow");

        Task request = middleware.InvokeAsync(context);
        Assert.Equal(1, _requests.InFlight);
        release.SetResult();
        await request;
        Assert.Equal(1, _requests.InFlight);
        ((ServerLikeResponseFeature)context.Features.Get<IHttpResponseFeature>()!).Complete();

        Assert.Equal(0, _requests.InFlight);
    }

    [Fact]
    public async Task InvokeAsync_RequestThrows_CountsItDoneWhenTheServerCompletesIt()
    {
        var middleware = new GracefulShutdownMiddleware(_ => throw new InvalidOperationException("boom"), _state, _requests, _endpoints, new WebSocketRegistry(), _provider);
        DefaultHttpContext context = Request("/");

        await Assert.ThrowsAsync<InvalidOperationException>(() => middleware.InvokeAsync(context));
        ((ServerLikeResponseFeature)context.Features.Get<IHttpResponseFeature>()!).Complete();

        Assert.Equal(0, _requests.InFlight);
    }

    [Fact]
    public void InvokeAsync_ProbeRequest_IsNotCountedAndNeverReachesTheApp()
    {
        bool reachedApp = false;
        var middleware = new GracefulShutdownMiddleware(_ => { reachedApp = true; return Task.CompletedTask; }, _state, _requests, _endpoints, new WebSocketRegistry(), _provider);
        DefaultHttpContext context = Request("/health/ready");

        CompletedSynchronously(middleware.InvokeAsync(context));

        Assert.False(reachedApp);
        Assert.Equal(200, context.Response.StatusCode);
        Assert.Equal(0, _requests.InFlight);
    }

    [Fact]
    public void InvokeAsync_WhileDraining_ClosesTheConnection()
    {
        var middleware = new GracefulShutdownMiddleware(static _ => Task.CompletedTask, _state, _requests, _endpoints, new WebSocketRegistry(), _provider);
        _shutdown.BeginDrain(DrainTrigger.PreStop);
        DefaultHttpContext context = Request("/");

        CompletedSynchronously(middleware.InvokeAsync(context));

        Assert.Equal("close", context.Response.Headers.Connection.ToString());
    }

    /// <summary>Completion callbacks as a server keeps them: one reused list per connection, fired when the response ends.</summary>
    private sealed class ServerLikeResponseFeature : HttpResponseFeature
    {
        private readonly List<(Func<object, Task> Callback, object State)> _onCompleted = new(4);

        public override void OnCompleted(Func<object, Task> callback, object state) => _onCompleted.Add((callback, state));

        public void Complete()
        {
            foreach ((Func<object, Task> callback, object state) in _onCompleted)
            {
                _ = callback(state);
            }

            _onCompleted.Clear();
        }
    }

    [Fact]
    public void InvokeAsync_IgnoredPath_IsNotTraffic()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddGracefulShutdown(o => o.TrafficWait.IgnoredPaths = ["/grpc.health.v1.Health/"]);
        using ServiceProvider provider = services.BuildServiceProvider();
        RequestTracker requests = provider.GetRequiredService<RequestTracker>();
        provider.GetRequiredService<GracefulShutdownService>().BeginDrain(DrainTrigger.SigTerm);
        var middleware = ActivatorUtilities.CreateInstance<GracefulShutdownMiddleware>(provider, (RequestDelegate)(static _ => Task.CompletedTask));

        CompletedSynchronously(middleware.InvokeAsync(Request("/grpc.health.v1.Health/Check")));
        CompletedSynchronously(middleware.InvokeAsync(Request("/greet.Greeter/SayHello")));

        Assert.Equal(1, requests.ArrivalsWhileDraining);
        Assert.Equal(1u, requests.Arrivals);
    }
}
