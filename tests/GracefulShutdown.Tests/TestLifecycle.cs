using System.Diagnostics.Metrics;
using System.Runtime.InteropServices;
using GracefulShutdown.Hosting;
using GracefulShutdown.Lifecycle;
using GracefulShutdown.Signals;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace GracefulShutdown.Tests;

/// <summary>
/// The library's real lifecycle types, resolved from dependency injection with fake time, fake logs, a test meter factory
/// and (optionally) a server, plus short-hands for the steps tests drive.
/// </summary>
internal sealed class TestLifecycle : IDisposable
{
    private readonly ServiceProvider _provider;

    public TestLifecycle(FakeTimeProvider time, GracefulShutdownOptions options, bool kubernetes = false, IServer? server = null,
        IHostApplicationLifetime? lifetime = null, Action<IServiceCollection>? configure = null)
    {
        Time = time;
        Options = options;
        var services = new ServiceCollection();
        services.AddSingleton<Microsoft.Extensions.Configuration.IConfiguration>(
            new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build());
        services.AddSingleton<TimeProvider>(time);
        services.AddSingleton(new KubernetesEnvironment(kubernetes));
        services.AddSingleton<IMeterFactory>(Meters);
        services.AddSingleton<ILoggerFactory>(new LoggerFactory([new FakeLoggerProvider(Logs), States]));
        services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        services.AddSingleton(lifetime ?? new TestLifetime());
        if (server is not null)
        {
            services.AddSingleton(server);
        }

        services.AddGracefulShutdown();
        services.AddSingleton<IOptions<GracefulShutdownOptions>>(Microsoft.Extensions.Options.Options.Create(options));
        configure?.Invoke(services);
        _provider = services.BuildServiceProvider();
    }

    public FakeTimeProvider Time { get; }

    public GracefulShutdownOptions Options { get; }

    public FakeLogCollector Logs { get; } = new();

    /// <summary>Gets the same log entries with their structured values as objects.</summary>
    public StateCapturingLoggerProvider States { get; } = new();

    public TestMeterFactory Meters { get; } = new();

    public IServiceProvider Services => _provider;

    public LifecycleState State => _provider.GetRequiredService<LifecycleState>();

    public RequestTracker Requests => _provider.GetRequiredService<RequestTracker>();

    public TrafficWait TrafficWait => _provider.GetRequiredService<TrafficWait>();

    public GracefulShutdownService Shutdown => _provider.GetRequiredService<GracefulShutdownService>();

    public ShutdownConductor Conductor => _provider.GetRequiredService<ShutdownConductor>();

    public T Hosted<T>() where T : IHostedService => _provider.GetServices<IHostedService>().OfType<T>().Single();

    public GracefulShutdownPhase Phase => State.Phase;

    public void MarkRunning()
    {
        State.MarkHostStarted();
        State.MarkStartupWorkDone(0);
    }

    /// <summary>
    /// A lifecycle whose traffic history has begun: the wait is built first (the history samples from then, as from host start),
    /// then the host is running, and one second passes (the first tick after readiness starts the history).
    /// </summary>
    public static TestLifecycle StartTrafficHistory(FakeTimeProvider time, GracefulShutdownOptions options)
    {
        var lifecycle = new TestLifecycle(time, options);
        _ = lifecycle.TrafficWait;
        lifecycle.MarkRunning();
        time.Advance(TimeSpan.FromSeconds(1));
        return lifecycle;
    }

    public bool BeginDrain(DrainTrigger trigger) => Shutdown.BeginDrain(trigger);

    /// <summary>Begins the drain on SIGTERM and returns the traffic wait it starts.</summary>
    public Task<TrafficWaitResult> DrainOnSigTermAsync()
    {
        BeginDrain(DrainTrigger.SigTerm);
        return TrafficWait.WaitAsync();
    }

    public void Signal(PosixSignal signal) => Hosted<SignalHandling>().OnSignal(new PosixSignalContext(signal));

    public MetricCollector<T> Collect<T>(string instrument) where T : struct =>
        new(Meters, GracefulShutdownTelemetry.MeterName, instrument);

    public void Dispose()
    {
        _provider.Dispose();
        Meters.Dispose();
    }
}

/// <summary>An <see cref="IHostApplicationLifetime"/> tests can stop.</summary>
internal sealed class TestLifetime : IHostApplicationLifetime
{
    private readonly CancellationTokenSource _started = new();
    private readonly CancellationTokenSource _stopping = new();

    public CancellationToken ApplicationStarted => _started.Token;

    public CancellationToken ApplicationStopping => _stopping.Token;

    public CancellationToken ApplicationStopped => CancellationToken.None;

    public int StopCalls { get; private set; }

    public void StopApplication()
    {
        StopCalls++;
        _stopping.Cancel();
    }
}
