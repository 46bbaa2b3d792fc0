using GracefulShutdown.Internal;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulShutdown.Tests.Internal;

public sealed class GracefulShutdownMiddlewareTests : IDisposable
{
    private readonly ServiceProvider _provider;
    private readonly ShutdownCoordinator _coordinator;
    private readonly LifecycleEndpoints _endpoints;

    public GracefulShutdownMiddlewareTests()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddGracefulShutdown();
        _provider = services.BuildServiceProvider();
        _coordinator = _provider.GetRequiredService<ShutdownCoordinator>();
        _endpoints = _provider.GetRequiredService<LifecycleEndpoints>();
        _coordinator.MarkHostStarted();
        _coordinator.MarkGatesCompleted();
    }

    public void Dispose() => _provider.Dispose();

    private static DefaultHttpContext Request(string path)
    {
        var context = new DefaultHttpContext { RequestServices = null! };
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
        var middleware = new GracefulShutdownMiddleware(static _ => Task.CompletedTask, _coordinator, _endpoints);
        DefaultHttpContext context = Request("/api/orders");
        for (int i = 0; i < 100; i++)
        {
            CompletedSynchronously(middleware.InvokeAsync(context));
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            CompletedSynchronously(middleware.InvokeAsync(context));
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal(0, _coordinator.InFlight);
    }

    [Fact]
    public async Task InvokeAsync_AsynchronousRequest_CountsItInFlightUntilItEnds()
    {
        var release = new TaskCompletionSource();
        var middleware = new GracefulShutdownMiddleware(_ => release.Task, _coordinator, _endpoints);

        Task request = middleware.InvokeAsync(Request("/slow"));
        Assert.Equal(1, _coordinator.InFlight);
        release.SetResult();
        await request;

        Assert.Equal(0, _coordinator.InFlight);
    }

    [Fact]
    public async Task InvokeAsync_RequestThrows_StillCountsItDone()
    {
        var middleware = new GracefulShutdownMiddleware(_ => throw new InvalidOperationException("boom"), _coordinator, _endpoints);

        await Assert.ThrowsAsync<InvalidOperationException>(() => middleware.InvokeAsync(Request("/")));

        Assert.Equal(0, _coordinator.InFlight);
    }

    [Fact]
    public void InvokeAsync_ProbeRequest_IsNotCountedAndNeverReachesTheApp()
    {
        bool reachedApp = false;
        var middleware = new GracefulShutdownMiddleware(_ => { reachedApp = true; return Task.CompletedTask; }, _coordinator, _endpoints);
        DefaultHttpContext context = Request("/health/ready");

        CompletedSynchronously(middleware.InvokeAsync(context));

        Assert.False(reachedApp);
        Assert.Equal(200, context.Response.StatusCode);
        Assert.Equal(0, _coordinator.InFlight);
    }

    [Fact]
    public void InvokeAsync_WhileDraining_ClosesTheConnection()
    {
        var middleware = new GracefulShutdownMiddleware(static _ => Task.CompletedTask, _coordinator, _endpoints);
        _coordinator.BeginDrain(DrainTrigger.PreStop);
        DefaultHttpContext context = Request("/");

        CompletedSynchronously(middleware.InvokeAsync(context));

        Assert.Equal("close", context.Response.Headers.Connection.ToString());
    }
}
