using System.IO.Pipelines;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using GracefulShutdown.Endpoints;
using GracefulShutdown.Lifecycle;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace GracefulShutdown.Benchmarks;

/// <summary>
/// The library's per-request hot path against the same pipeline without it, in time and bytes allocated per request.
/// "Baseline" rows call the terminal app delegate directly (the pipeline without the library); "Library" rows go through
/// <see cref="GracefulShutdownMiddleware"/> built from <c>services.AddGracefulShutdown()</c>. Each invocation reuses one
/// <see cref="DefaultHttpContext"/> whose response writer discards its bytes, so only the code under test allocates, and
/// whose response feature behaves like a server's (<see cref="ServerLikeResponseFeature"/>): every row completes the
/// response after the pipeline, firing the <c>OnCompleted</c> callbacks the middleware registered, so the in-flight count
/// really goes back down and the cost of firing is part of the measurement. Rows without the library complete the
/// response the same way (nothing is registered, so nothing fires).
/// </summary>
[MemoryDiagnoser]
[Config(typeof(Config))]
public class RequestPathBenchmarks
{
    private sealed class Config : ManualConfig
    {
        public Config()
        {
            // A short job: a few minutes for the whole class.
            AddJob(Job.ShortRun.WithId("ShortRun"));
        }
    }

    private static readonly RequestDelegate s_syncApp = static context =>
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        return Task.CompletedTask;
    };

    private static readonly RequestDelegate s_asyncApp = static async context =>
    {
        await Task.Yield();
        context.Response.StatusCode = StatusCodes.Status200OK;
    };

    private ServiceProvider _services = null!;
    private ServiceProvider _drainingServices = null!;
    private GracefulShutdownMiddleware _syncMiddleware = null!;
    private GracefulShutdownMiddleware _asyncMiddleware = null!;
    private GracefulShutdownMiddleware _drainingMiddleware = null!;
    private PreviousRequestPath _previousPath = null!;
    private ServiceProvider _noWebSocketServices = null!;
    private GracefulShutdownMiddleware _noWebSocketMiddleware = null!;
    private HealthCheckMiddleware _aspNetCoreHealthChecks = null!;
    private DefaultHttpContext _request = null!;
    private DefaultHttpContext _readiness = null!;
    private ServerLikeResponseFeature _requestResponse = null!;
    private ServerLikeResponseFeature _readinessResponse = null!;
    private RequestTracker _coordinator = null!;
    private RequestTracker _drainingCoordinator = null!;

    [GlobalSetup]
    public void Setup()
    {
        (_services, _coordinator) = Build();
        _syncMiddleware = ActivatorUtilities.CreateInstance<GracefulShutdownMiddleware>(_services, s_syncApp);
        _asyncMiddleware = ActivatorUtilities.CreateInstance<GracefulShutdownMiddleware>(_services, s_asyncApp);

        (_drainingServices, _drainingCoordinator) = Build();
        _drainingServices.GetRequiredService<GracefulShutdownService>().BeginDrain(DrainTrigger.DrainAsync);
        _drainingMiddleware = ActivatorUtilities.CreateInstance<GracefulShutdownMiddleware>(_drainingServices, s_syncApp);
        _previousPath = new PreviousRequestPath(s_syncApp, _services.GetRequiredService<LifecycleEndpoints>());
        (_noWebSocketServices, _) = Build(closeWebSockets: false);
        _noWebSocketMiddleware = ActivatorUtilities.CreateInstance<GracefulShutdownMiddleware>(_noWebSocketServices, s_syncApp);

        // The plain ASP.NET Core way to answer a readiness probe: app.MapHealthChecks("/health/ready") with no checks.
        _aspNetCoreHealthChecks = new HealthCheckMiddleware(s_syncApp,
            Options.Create(new HealthCheckOptions()), _services.GetRequiredService<HealthCheckService>());

        (_request, _requestResponse) = NewContext("/");
        (_readiness, _readinessResponse) = NewContext("/health/ready");

        // Warm the header dictionaries and the callback list, and verify what each path answers and that the count drops.
        _syncMiddleware.InvokeAsync(_request).GetAwaiter().GetResult();
        Require(_coordinator.InFlight == 1 && _requestResponse.Pending == 1, "the middleware did not register its OnCompleted callback");
        _requestResponse.Complete();
        Require(_coordinator.InFlight == 0, "completing the response did not count the request down");
        _syncMiddleware.InvokeAsync(_readiness).GetAwaiter().GetResult();
        _readinessResponse.Complete();
        Require(_readiness.Response.StatusCode == StatusCodes.Status200OK, $"readiness answered {_readiness.Response.StatusCode}, expected 200");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        // Every iteration completed its response, so nothing may be left in flight.
        Require(_coordinator.InFlight == 0, $"{_coordinator.InFlight} requests left in flight");
        Require(_drainingCoordinator.InFlight == 0, $"{_drainingCoordinator.InFlight} requests left in flight while draining");
        Require(_previousPath.InFlight == 0, $"{_previousPath.InFlight} requests left in flight on the 0.1.0 path");
        _services.Dispose();
        _drainingServices.Dispose();
        _noWebSocketServices.Dispose();
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvalidOperationException("Benchmark setup: " + message + ".");
        }
    }

    private static (ServiceProvider, RequestTracker) Build(bool closeWebSockets = true)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        services.AddGracefulShutdown(o => o.Connections.CloseWebSockets = closeWebSockets);
        ServiceProvider provider = services.BuildServiceProvider();
        LifecycleState state = provider.GetRequiredService<LifecycleState>();
        state.MarkHostStarted();
        state.MarkStartupWorkDone(0);
        return (provider, provider.GetRequiredService<RequestTracker>());
    }

    private static (DefaultHttpContext, ServerLikeResponseFeature) NewContext(string path)
    {
        var context = new DefaultHttpContext();
        var response = new ServerLikeResponseFeature();
        context.Features.Set<IHttpResponseFeature>(response);
        context.Features.Set<IHttpResponseBodyFeature>(new DiscardingBodyFeature());
        context.Request.Method = HttpMethods.Get;
        context.Request.Scheme = "http";
        context.Request.Path = path;
        context.Request.Protocol = "HTTP/1.1";
        return (context, response);
    }

    private static void Reset(DefaultHttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.Headers.Clear();
    }

    [Benchmark(Baseline = true, Description = "Request, no library (app delegate only)")]
    public void Baseline_Request()
    {
        Reset(_request);
        s_syncApp(_request).GetAwaiter().GetResult();
        _requestResponse.Complete();
    }

    [Benchmark(Description = "Request, library middleware")]
    public void Library_Request()
    {
        Reset(_request);
        _syncMiddleware.InvokeAsync(_request).GetAwaiter().GetResult();
        _requestResponse.Complete();
    }

    [Benchmark(Description = "Request, library middleware before the arrival history (0.1.0 path)")]
    public void Previous_Request()
    {
        Reset(_request);
        _previousPath.InvokeAsync(_request).GetAwaiter().GetResult();
        _requestResponse.Complete();
    }

    [Benchmark(Description = "Request, library middleware, Connections:CloseWebSockets=false (no upgrade check)")]
    public void Library_Request_NoWebSocketTracking()
    {
        Reset(_request);
        _noWebSocketMiddleware.InvokeAsync(_request).GetAwaiter().GetResult();
        _requestResponse.Complete();
    }

    [Benchmark(Description = "Request while draining, library middleware (Connection: close)")]
    public void Library_Request_Draining()
    {
        Reset(_request);
        _drainingMiddleware.InvokeAsync(_request).GetAwaiter().GetResult();
        _requestResponse.Complete();
    }

    [Benchmark(Description = "Async request, no library (app delegate only)")]
    public async Task Baseline_AsyncRequest()
    {
        // Awaited, as the server (or the previous middleware) awaits the pipeline: a second continuation on the app task.
        Reset(_request);
        await s_asyncApp(_request);
        _requestResponse.Complete();
    }

    [Benchmark(Description = "Async request, library middleware")]
    public async Task Library_AsyncRequest()
    {
        // Awaited, as the server (or the previous middleware) awaits the pipeline: a second continuation on the app task.
        Reset(_request);
        await _asyncMiddleware.InvokeAsync(_request);
        _requestResponse.Complete();
    }

    [Benchmark(Description = "Readiness probe, library (/health/ready)")]
    public void Library_Readiness()
    {
        Reset(_readiness);
        _syncMiddleware.InvokeAsync(_readiness).GetAwaiter().GetResult();
        _readinessResponse.Complete();
    }

    [Benchmark(Description = "Readiness probe, ASP.NET Core MapHealthChecks (no checks)")]
    public void AspNetCore_HealthChecks()
    {
        Reset(_readiness);
        _aspNetCoreHealthChecks.InvokeAsync(_readiness).GetAwaiter().GetResult();
        _readinessResponse.Complete();
    }

    /// <summary>
    /// A response feature that behaves like a server's: <c>OnCompleted</c> stores the callback in a list reused from request
    /// to request (as Kestrel reuses its per-connection callback stack), and <see cref="Complete"/> fires the callbacks when
    /// the "response" has been sent. The default <see cref="HttpResponseFeature.OnCompleted"/> of a bare
    /// <see cref="DefaultHttpContext"/> drops the callback, which would leave every request in flight.
    /// </summary>
    private sealed class ServerLikeResponseFeature : HttpResponseFeature
    {
        private readonly List<(Func<object, Task> Callback, object State)> _onCompleted = new(4);

        public int Pending => _onCompleted.Count;

        public override void OnCompleted(Func<object, Task> callback, object state) => _onCompleted.Add((callback, state));

        /// <summary>Fires the callbacks, most recently registered first, as Kestrel does, then clears the list for the next request.</summary>
        public void Complete()
        {
            for (int i = _onCompleted.Count - 1; i >= 0; i--)
            {
                (Func<object, Task> callback, object state) = _onCompleted[i];
                Task task = callback(state);
                if (!task.IsCompletedSuccessfully)
                {
                    task.GetAwaiter().GetResult();
                }
            }

            _onCompleted.Clear();
        }
    }

    /// <summary>A response body that accepts and discards writes without allocating, like a server buffer reused per request.</summary>
    private sealed class DiscardingBodyFeature : IHttpResponseBodyFeature
    {
        private readonly DiscardingPipeWriter _writer = new();

        public Stream Stream => Stream.Null;

        public PipeWriter Writer => _writer;

        public Task CompleteAsync() => Task.CompletedTask;

        public void DisableBuffering()
        {
        }

        public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) => Task.CompletedTask;

        public Task StartAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;
    }

    private sealed class DiscardingPipeWriter : PipeWriter
    {
        private readonly byte[] _buffer = new byte[16 * 1024];

        public override void Advance(int bytes)
        {
        }

        public override void CancelPendingFlush()
        {
        }

        public override void Complete(Exception? exception = null)
        {
        }

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => new(new FlushResult(false, false));

        public override Memory<byte> GetMemory(int sizeHint = 0) => _buffer;

        public override Span<byte> GetSpan(int sizeHint = 0) => _buffer;

        public override bool CanGetUnflushedBytes => true;

        public override long UnflushedBytes => 0;
    }
}
