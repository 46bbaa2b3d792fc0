using Grpc.HealthCheck;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;
using GracefulShutdown.Grpc.Diagnostics;

namespace GracefulShutdown.Grpc.Probes;

/// <summary>
/// Keeps the gRPC health service's statuses (held by Grpc.HealthCheck's <see cref="HealthServiceImpl"/>, which serves Check and
/// pushes to Watch) in step with <see cref="IGracefulShutdownProbes"/>: at once on the lifecycle's own events (ready, and
/// <see cref="IGracefulShutdownProbes.ReadinessLost"/>), and every <see cref="GrpcShutdownOptions.RefreshInterval"/> for the
/// tagged health checks. It applies no readiness rule of its own: while draining, readiness answers exactly like
/// <c>/health/ready</c> (a readiness failure delay included).
/// </summary>
internal sealed class GrpcHealthStatusUpdater : BackgroundService
{
    private readonly HealthServiceImpl _health;
    private readonly IGracefulShutdown _lifecycle;
    private readonly IGracefulShutdownProbes _probes;
    private readonly IServiceProvider _services;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly GrpcShutdownOptions _options;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, ServingStatus> _applied = new(StringComparer.Ordinal);
    private CancellationTokenSource _refreshNow = new();
    private CancellationTokenRegistration _readinessLostRegistration;

    public GrpcHealthStatusUpdater(HealthServiceImpl health, IGracefulShutdown lifecycle, IGracefulShutdownProbes probes,
        IServiceProvider services, IOptions<GrpcShutdownOptions> options, TimeProvider time, ILogger<GrpcHealthStatusUpdater> logger)
    {
        _health = health;
        _lifecycle = lifecycle;
        _probes = probes;
        _services = services;
        _time = time;
        _logger = logger;
        _options = options.Value;

        // Until the first evaluation nothing is ready; an unknown name would answer NOT_FOUND instead.
        Apply(HealthStatus.Unhealthy, HealthStatus.Unhealthy, HealthStatus.Healthy);
    }

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _logger.Configured(_options.ReadinessService, _options.LivenessService, _options.StartupService, _options.EndStreamsWhenTrafficWaitEnds);

        // Pushed from the lifecycle's own callback, not at the next refresh: Watch callers must learn at once that readiness is
        // gone (at the drain start, or when the readiness failure delay or the traffic wait is over).
        _readinessLostRegistration = _probes.ReadinessLost.Register(static state => ((GrpcHealthStatusUpdater)state!).OnReadinessLost(), this);
        _ = _lifecycle.WhenReady.ContinueWith(static (_, state) => ((GrpcHealthStatusUpdater)state!).OnReady(), this,
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            await UpdateAsync(stoppingToken).ConfigureAwait(false);

            CancellationTokenSource refreshNow;
            lock (_gate)
            {
                refreshNow = _refreshNow;
            }

            using var wake = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, refreshNow.Token);
            try
            {
                await Task.Delay(_options.RefreshInterval, _time, wake.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
                // Woken by a lifecycle event.
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void OnReady()
    {
        if (!_lifecycle.WhenReady.IsCompletedSuccessfully)
        {
            return;
        }

        WarnWhenNotMapped();
        RefreshNow();
    }

    private void OnReadinessLost()
    {
        lock (_gate)
        {
            Set(string.Empty, ServingStatus.NotServing);
            Set(_options.ReadinessService, ServingStatus.NotServing);
        }

        RefreshNow();
    }

    private void RefreshNow()
    {
        CancellationTokenSource previous;
        lock (_gate)
        {
            previous = _refreshNow;
            _refreshNow = new CancellationTokenSource();
        }

        previous.Cancel();
        previous.Dispose();
    }

    private async Task UpdateAsync(CancellationToken cancellationToken)
    {
        try
        {
            HealthStatus startup = await _probes.CheckAsync(GracefulShutdownProbe.Startup, cancellationToken).ConfigureAwait(false);
            HealthStatus readiness = await _probes.CheckAsync(GracefulShutdownProbe.Readiness, cancellationToken).ConfigureAwait(false);
            HealthStatus liveness = await _probes.CheckAsync(GracefulShutdownProbe.Liveness, cancellationToken).ConfigureAwait(false);
            Apply(startup, readiness, liveness);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _logger.UpdateFailed(ex);
        }
    }

    private void Apply(HealthStatus startup, HealthStatus readiness, HealthStatus liveness)
    {
        lock (_gate)
        {
            // An evaluation that began before readiness was lost must not turn it back to SERVING after that.
            ServingStatus ready = _probes.ReadinessLost.IsCancellationRequested ? ServingStatus.NotServing : ToServing(readiness);
            Set(string.Empty, ready);
            Set(_options.ReadinessService, ready);
            Set(_options.LivenessService, ToServing(liveness));
            Set(_options.StartupService, ToServing(startup));
        }
    }

    // Called under _gate; HealthServiceImpl pushes to every Watch call, so only real changes go through.
    private void Set(string service, ServingStatus status)
    {
        if (_applied.TryGetValue(service, out ServingStatus current) && current == status)
        {
            return;
        }

        _applied[service] = status;
        _health.SetStatus(service, status);
        _logger.StatusChanged(service, status);
    }

    private static ServingStatus ToServing(HealthStatus status) =>
        status == HealthStatus.Unhealthy ? ServingStatus.NotServing : ServingStatus.Serving;

    private void WarnWhenNotMapped()
    {
        if (_services.GetService<EndpointDataSource>() is not { } endpoints)
        {
            return;
        }

        foreach (Endpoint endpoint in endpoints.Endpoints)
        {
            if (endpoint is RouteEndpoint route
                && string.Equals(route.RoutePattern.RawText, "/grpc.health.v1.Health/Watch", StringComparison.OrdinalIgnoreCase))
            {
                return;
            }
        }

        _logger.HealthServiceNotMapped();
    }

    public override void Dispose()
    {
        _readinessLostRegistration.Dispose();
        lock (_gate)
        {
            _refreshNow.Dispose();
        }

        base.Dispose();
    }
}
