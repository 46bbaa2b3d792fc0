using GracefulShutdown.Eureka.Client;
using GracefulShutdown.Eureka.Configuration;
using GracefulShutdown.Eureka.Diagnostics;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulShutdown.Eureka.Registration;

/// <summary>
/// Ties the registration to the host: checks the configuration while starting, starts <see cref="EurekaRegistrationLoop"/> once the
/// server has started (its port is known then), and stops it and deregisters in <see cref="StopAsync"/>.
/// </summary>
internal sealed class EurekaRegistrationService : IHostedLifecycleService, IDisposable
{
    private readonly EurekaHttpClient _client;
    private readonly IGracefulShutdown _shutdown;
    private readonly EurekaRegistrationState _state;
    private readonly EurekaClientOptions _clientOptions;
    private readonly EurekaInstanceOptions _instanceOptions;
    private readonly GracefulShutdownOptions _shutdownOptions;
    private readonly IHostEnvironment _environment;
    private readonly IServiceProvider _services;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string? _disabledReason;
    private readonly EurekaMetrics _metrics;
    private readonly IGracefulShutdownRoutes? _routes;
    private readonly IGracefulShutdownReport? _report;

    private EurekaReconciler? _reconciler;
    private EurekaCachedView? _cachedView;
    private EurekaRegistrationLoop? _loop;

    public EurekaRegistrationService(EurekaHttpClient client, IGracefulShutdown shutdown, EurekaRegistrationState state,
        IOptions<EurekaClientOptions> clientOptions, IOptions<EurekaInstanceOptions> instanceOptions, IOptions<GracefulShutdownOptions> shutdownOptions,
        IHostEnvironment environment, IServiceProvider services, TimeProvider time, ILogger<EurekaRegistrationService> logger, EurekaMetrics metrics,
        IGracefulShutdownRoutes? routes = null, IGracefulShutdownReport? report = null)
    {
        _metrics = metrics;
        _routes = routes;
        _report = report;
        _client = client;
        _shutdown = shutdown;
        _state = state;
        _clientOptions = clientOptions.Value;
        _instanceOptions = instanceOptions.Value;
        _shutdownOptions = shutdownOptions.Value;
        _environment = environment;
        _services = services;
        _time = time;
        _logger = logger;
        _disabledReason = EurekaStartupChecks.DisabledReason(_clientOptions, client.Servers.Count);
        if (_disabledReason is not null)
        {
            _state.Set(EurekaRegistration.Off);
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        if (_disabledReason is not null)
        {
            _logger.Disabled(_disabledReason);
        }
        else
        {
            EurekaStartupChecks.WarnIfTrafficWaitTooShort(_logger, _clientOptions, _shutdown.Budget);
        }

        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        if (_disabledReason is null)
        {
            EurekaInstanceIdentity identity = ResolveIdentity();
            _logger.Configured(identity.AppName, identity.InstanceId, identity.HostName, identity.IpAddress, identity.Port,
                identity.LeaseRenewalIntervalInSeconds, string.Join(", ", _client.Servers));
            _cachedView = new EurekaCachedView(_client, _shutdown, _routes, _report, _clientOptions, identity, _time, _logger, _metrics);
            _reconciler = new EurekaReconciler(_client, _shutdown, _state, identity, _clientOptions, _time, _logger, _cachedView);
            _loop = new EurekaRegistrationLoop(_reconciler, _shutdown, _time, _logger);
            _loop.Start();
        }

        return Task.CompletedTask;
    }

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Runs after the traffic wait and the server drain; the loop stops first, so no heartbeat follows the DELETE.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_loop is null || _reconciler is null)
        {
            return;
        }

        await _loop.StopAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Over already: it stops when the traffic wait ends, which came before this stop.
            await _cachedView!.StopAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The host's stop budget is spent; the read in progress ends at its own timeout.
        }

        // Bounded on its own so that a hanging server cannot eat the stop budget of the services after this one.
        var requestTimeout = TimeSpan.FromSeconds(_clientOptions.RequestTimeoutSeconds);
        TimeSpan stopMargin = _shutdown.Budget.StopMargin;
        TimeSpan bound = stopMargin > TimeSpan.Zero && stopMargin < requestTimeout ? stopMargin : requestTimeout;
        await _reconciler.DeregisterAsync(bound, cancellationToken).ConfigureAwait(false);
    }

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private EurekaInstanceIdentity ResolveIdentity()
    {
        ICollection<string> addresses = _services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        EurekaInstanceIdentity identity = EurekaInstanceResolver.Resolve(_instanceOptions, _environment.ApplicationName,
            _shutdownOptions.Endpoints.ReadinessPath, addresses);
        if (_instanceOptions.Port <= 0 && _instanceOptions.SecurePort <= 0 && EurekaInstanceResolver.PortsFrom(addresses) is (null, null))
        {
            _logger.PortUnknown(addresses.Count == 0 ? "none" : string.Join(", ", addresses), identity.Port);
        }

        return identity;
    }

    public void Dispose()
    {
        _loop?.Dispose();
        _cachedView?.Dispose();
    }
}
