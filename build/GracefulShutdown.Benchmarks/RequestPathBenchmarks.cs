using System.IO.Pipelines;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using GracefulShutdown.Internal;
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
/// <see cref="DefaultHttpContext"/> whose response writer discards its bytes, so only the code under test allocates.
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
    private PrototypeMiddleware _prototypeAsync = null!;
    private HealthCheckMiddleware _aspNetCoreHealthChecks = null!;
    private DefaultHttpContext _request = null!;
    private DefaultHttpContext _readiness = null!;

    [GlobalSetup]
    public void Setup()
    {
        (_services, ShutdownCoordinator coordinator, LifecycleEndpoints endpoints) = Build();
        _syncMiddleware = new GracefulShutdownMiddleware(s_syncApp, coordinator, endpoints);
        _asyncMiddleware = new GracefulShutdownMiddleware(s_asyncApp, coordinator, endpoints);
        _prototypeAsync = new PrototypeMiddleware(s_asyncApp, coordinator);

        (_drainingServices, ShutdownCoordinator draining, LifecycleEndpoints drainingEndpoints) = Build();
        draining.BeginDrain(DrainTrigger.DrainAsync);
        _drainingMiddleware = new GracefulShutdownMiddleware(s_syncApp, draining, drainingEndpoints);

        // The plain ASP.NET Core way to answer a readiness probe: app.MapHealthChecks("/health/ready") with no checks.
        _aspNetCoreHealthChecks = new HealthCheckMiddleware(s_syncApp,
            Options.Create(new HealthCheckOptions()), _services.GetRequiredService<HealthCheckService>());

        _request = NewContext("/");
        _readiness = NewContext("/health/ready");

        // Warm the header dictionaries and verify what each path answers.
        _syncMiddleware.InvokeAsync(_request).GetAwaiter().GetResult();
        _syncMiddleware.InvokeAsync(_readiness).GetAwaiter().GetResult();
        if (_readiness.Response.StatusCode != StatusCodes.Status200OK)
        {
            throw new InvalidOperationException($"Readiness answered {_readiness.Response.StatusCode}, expected 200.");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _services.Dispose();
        _drainingServices.Dispose();
    }

    private static (ServiceProvider, ShutdownCoordinator, LifecycleEndpoints) Build()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        services.AddGracefulShutdown();
        ServiceProvider provider = services.BuildServiceProvider();
        ShutdownCoordinator coordinator = provider.GetRequiredService<ShutdownCoordinator>();
        coordinator.MarkHostStarted();
        coordinator.MarkGatesCompleted();
        return (provider, coordinator, provider.GetRequiredService<LifecycleEndpoints>());
    }

    private static DefaultHttpContext NewContext(string path)
    {
        var context = new DefaultHttpContext();
        context.Features.Set<IHttpResponseBodyFeature>(new DiscardingBodyFeature());
        context.Request.Method = HttpMethods.Get;
        context.Request.Scheme = "http";
        context.Request.Path = path;
        context.Request.Protocol = "HTTP/1.1";
        return context;
    }

    private static void Reset(DefaultHttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.Headers.Clear();
    }

    [Benchmark(Baseline = true, Description = "Request, no library (app delegate only)")]
    public Task Baseline_Request()
    {
        Reset(_request);
        return s_syncApp(_request);
    }

    [Benchmark(Description = "Request, library middleware")]
    public Task Library_Request()
    {
        Reset(_request);
        return _syncMiddleware.InvokeAsync(_request);
    }

    [Benchmark(Description = "Request while draining, library middleware (Connection: close)")]
    public Task Library_Request_Draining()
    {
        Reset(_request);
        return _drainingMiddleware.InvokeAsync(_request);
    }

    [Benchmark(Description = "Async request, no library (app delegate only)")]
    public async Task Baseline_AsyncRequest()
    {
        // Awaited, as the server (or the previous middleware) awaits the pipeline: a second continuation on the app task.
        Reset(_request);
        await s_asyncApp(_request);
    }

    [Benchmark(Description = "Async request, library middleware")]
    public async Task Library_AsyncRequest()
    {
        // Awaited, as the server (or the previous middleware) awaits the pipeline: a second continuation on the app task.
        Reset(_request);
        await _asyncMiddleware.InvokeAsync(_request);
    }

    [Benchmark(Description = "Async request, PROTOTYPE middleware (cached continuation, not the library)")]
    public async Task Prototype_AsyncRequest()
    {
        // Awaited, as the server (or the previous middleware) awaits the pipeline: a second continuation on the app task.
        Reset(_request);
        await _prototypeAsync.InvokeAsync(_request);
    }

    [Benchmark(Description = "Readiness probe, library (/health/ready)")]
    public Task Library_Readiness()
    {
        Reset(_readiness);
        return _syncMiddleware.InvokeAsync(_readiness);
    }

    [Benchmark(Description = "Readiness probe, ASP.NET Core MapHealthChecks (no checks)")]
    public Task AspNetCore_HealthChecks()
    {
        Reset(_readiness);
        return _aspNetCoreHealthChecks.InvokeAsync(_readiness);
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
