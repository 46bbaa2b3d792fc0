using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulShutdown.Internal;

/// <summary>
/// Drives the lifecycle from the host's events. The traffic wait and the server drain run in <see cref="StoppingAsync"/>:
/// it is the only host phase before the server stops (the server is registered last, so it stops before any <c>StopAsync</c>).
/// </summary>
internal sealed class GracefulShutdownHostedService : IHostedLifecycleService, IDisposable
{
    private readonly ShutdownCoordinator _coordinator;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly IServiceProvider _services;
    private readonly StartupGate[] _gates;
    private readonly GracefulShutdownOptions _options;
    private readonly HostOptions _hostOptions;
    private readonly KubernetesEnvironment _kubernetes;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Action<PosixSignalContext> _onSignal;
    private CancellationTokenRegistration _onStopping;
    private CancellationTokenRegistration _onStarted;
    private Task _gatesTask = Task.CompletedTask;
    private IDisposable? _signalRegistration;

    public GracefulShutdownHostedService(ShutdownCoordinator coordinator, IHostApplicationLifetime lifetime, IServiceProvider services,
        IEnumerable<StartupGate> gates, IOptions<GracefulShutdownOptions> options, IOptions<HostOptions> hostOptions,
        KubernetesEnvironment kubernetes, TimeProvider time, ILogger<GracefulShutdownHostedService> logger)
    {
        _coordinator = coordinator;
        _lifetime = lifetime;
        _services = services;
        _gates = gates.ToArray();
        _options = options.Value;
        _hostOptions = hostOptions.Value;
        _kubernetes = kubernetes;
        _time = time;
        _logger = logger;
        _onSignal = OnSignal;
    }

    /// <summary>Gets the task running the start-up gates (for tests).</summary>
    internal Task GatesTask => _gatesTask;

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        TrafficWaitOptions wait = _options.TrafficWait;
        _logger.Configured(wait.Minimum, wait.Maximum, wait.QuietPeriod, _options.DrainTimeout, _options.StopMargin,
            _hostOptions.ShutdownTimeout, _options.TerminationGracePeriod);
        if (_options.ManagementPort is null && string.IsNullOrEmpty(_options.PreStop.Token))
        {
            _logger.PreStopLoopbackOnly(_kubernetes.IsKubernetes ? LogLevel.Warning : LogLevel.Information, _options.Endpoints.PreStopPath);
        }

        _onStopping = _lifetime.ApplicationStopping.Register(static state =>
            ((ShutdownCoordinator)state!).BeginDrain(DrainTrigger.StopApplication), _coordinator);

        (_signalRegistration, PosixSignal? early) = ProcessSignals.Attach(_onSignal);
        if (early is PosixSignal signal)
        {
            _logger.SignalDuringStartup(ShutdownCoordinator.SignalName(signal));
            _coordinator.BeginDrain(DrainTrigger.SignalDuringStartup);
            _onStarted = _lifetime.ApplicationStarted.Register(static state => ((IHostApplicationLifetime)state!).StopApplication(), _lifetime);
        }

        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        _coordinator.MarkHostStarted();
        WarnIfManagementPortUnbound();
        _coordinator.SetGateCount(_gates.Length);
        if (_gates.Length == 0)
        {
            _coordinator.MarkGatesCompleted();
        }
        else
        {
            _gatesTask = RunGatesAsync();
        }

        return Task.CompletedTask;
    }

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        _coordinator.BeginDrain(DrainTrigger.StopApplication);
        await _coordinator.WaitForTrafficToLeaveAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        await DrainServerAsync(cancellationToken).ConfigureAwait(false);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken)
    {
        _coordinator.EnterStopped();
        _logger.ShutdownComplete(_coordinator.SinceDrainStarted.TotalSeconds, _coordinator.Trigger);
        _signalRegistration?.Dispose();

        return Task.CompletedTask;
    }

    /// <summary>
    /// Stops the server with our own deadline rather than the remainder of the host's shared ShutdownTimeout,
    /// so that in-flight requests get exactly <c>DrainTimeout</c> however long the traffic wait took.
    /// The host's own later <c>IServer.StopAsync</c> call then finds the server stopped.
    /// </summary>
    private async Task DrainServerAsync(CancellationToken cancellationToken)
    {
        _coordinator.EnterStopping();
        _logger.ServerDrainStarted(_coordinator.InFlight, _options.DrainTimeout);
        if (_services.GetService<IServer>() is not IServer server)
        {
            return;
        }

        long start = _time.GetTimestamp();
        long inFlightAtDeadline = -1;
        using var deadline = new CancellationTokenSource(_options.DrainTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken);
        using (linked.Token.Register(() => Interlocked.Exchange(ref inFlightAtDeadline, _coordinator.InFlight)))
        {
            try
            {
                await server.StopAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The deadline passed; the server aborted what was left.
            }
        }

        double elapsed = _time.GetElapsedTime(start).TotalSeconds;
        _coordinator.Metrics.DrainDuration.Record(elapsed);
        long aborted = Interlocked.Read(ref inFlightAtDeadline);
        if (aborted > 0)
        {
            _coordinator.Metrics.AbortedRequests.Add(aborted);
            _logger.DrainTimeoutReached(_options.DrainTimeout, aborted);
        }
        else
        {
            _logger.ServerDrainCompleted(elapsed);
        }
    }

    private void OnSignal(PosixSignalContext context)
    {
        // Whatever IHostLifetime is in use, a signal stops the host: we own the sequence from here.
        context.Cancel = true;
        _coordinator.OnSignal(context.Signal);
        _lifetime.StopApplication();
    }

    private async Task RunGatesAsync()
    {
        CancellationToken stopping = _lifetime.ApplicationStopping;
        bool[] results = await Task.WhenAll(_gates.Select(gate => Task.Run(() => RunGateAsync(gate, stopping), CancellationToken.None)))
            .ConfigureAwait(false);
        if (results.All(static ok => ok))
        {
            _coordinator.MarkGatesCompleted();
        }
    }

    private async Task<bool> RunGateAsync(StartupGate gate, CancellationToken stopping)
    {
        try
        {
            await gate.WaitAsync(_services, stopping).ConfigureAwait(false);
            _logger.StartupGateCompleted(gate.Name);
            return true;
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return false;
        }
#pragma warning disable CA1031 // A failing gate must leave the app unready, not crash the host; it is logged as an error.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _logger.StartupGateFailed(gate.Name, ex);
            return false;
        }
    }

    private void WarnIfManagementPortUnbound()
    {
        if (_options.ManagementPort is not int port ||
            _services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>() is not { } addresses)
        {
            return;
        }

        foreach (string address in addresses.Addresses)
        {
            if (ServerAddress.TryParse(address)?.Port == port)
            {
                return;
            }
        }

        _logger.ManagementPortNotBound(port, string.Join(", ", addresses.Addresses));
    }

    public void Dispose()
    {
        _onStopping.Dispose();
        _onStarted.Dispose();
        _signalRegistration?.Dispose();
    }
}
