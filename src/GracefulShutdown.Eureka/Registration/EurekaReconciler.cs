using GracefulShutdown.Eureka.Client;
using GracefulShutdown.Eureka.Configuration;
using GracefulShutdown.Eureka.Diagnostics;
using Microsoft.Extensions.Logging;

namespace GracefulShutdown.Eureka.Registration;

/// <summary>
/// Moves the registration towards what the lifecycle wants, one call per step: STARTING first, UP once
/// <see cref="IGracefulShutdown.WhenReady"/> completes, the OUT_OF_SERVICE admin override once <see cref="IGracefulShutdown.DrainStarted"/>
/// fires (heartbeats continue, so the lease is neither lost nor re-registered UP), and the DELETE at stop. It tells
/// <see cref="EurekaCachedView"/> when the instance is UP and when the override is confirmed.
/// </summary>
/// <remarks>Only one caller at a time (the loop, then the stop), so the state needs no locks.</remarks>
internal sealed class EurekaReconciler
{
    private readonly EurekaHttpClient _client;
    private readonly IGracefulShutdown _shutdown;
    private readonly EurekaRegistrationState _state;
    private readonly EurekaInstanceIdentity _identity;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TimeSpan _renewalInterval;
    private readonly TimeSpan _registrationRetryCap;
    private readonly EurekaCachedView? _cachedView;

    // What the server last confirmed.
    private EurekaStatus? _lease;
    private bool _overrideSent;
    private bool _everRegistered;
    private bool _registrationAttempted;
    private bool _drainBeforeRegistrationLogged;
    private bool _unreadableLogged;
    private int _leaseLostInRow;
    private long _lastDirtyTimestamp;
    private long _nextHeartbeat;

    public EurekaReconciler(EurekaHttpClient client, IGracefulShutdown shutdown, EurekaRegistrationState state, EurekaInstanceIdentity identity,
        EurekaClientOptions options, TimeProvider time, ILogger logger, EurekaCachedView? cachedView = null)
    {
        _cachedView = cachedView;
        _client = client;
        _shutdown = shutdown;
        _state = state;
        _identity = identity;
        _time = time;
        _logger = logger;
        _renewalInterval = TimeSpan.FromSeconds(identity.LeaseRenewalIntervalInSeconds);
        _registrationRetryCap = TimeSpan.FromSeconds(options.RetryMaximumIntervalSeconds);
    }

    // While registered, retrying more often than the heartbeat interval helps nobody.
    private TimeSpan RenewalCap => _registrationRetryCap < _renewalInterval ? _registrationRetryCap : _renewalInterval;

    /// <summary>
    /// Makes at most one call and returns the wait before the next step (<see cref="Timeout.InfiniteTimeSpan"/>: until the lifecycle changes).
    /// </summary>
    public async Task<TimeSpan> StepAsync(CancellationToken cancellationToken)
    {
        if (_shutdown.DrainStarted.IsCancellationRequested)
        {
            return await DrainStepAsync(cancellationToken).ConfigureAwait(false);
        }

        // STARTING first, always: peers and dashboards see the instance arrive before it takes traffic.
        EurekaStatus desired = _everRegistered && _shutdown.WhenReady.IsCompletedSuccessfully ? EurekaStatus.Up : EurekaStatus.Starting;
        if (_lease != desired)
        {
            EurekaCallResult registered = await RegisterAsync(desired, EurekaStatus.Unknown, cancellationToken).ConfigureAwait(false);
            if (!registered.Succeeded)
            {
                return Failed(EurekaOperation.Register, registered, _registrationRetryCap, desired);
            }

            if (desired == EurekaStatus.Up)
            {
                await VerifyRegistrationAsync(cancellationToken).ConfigureAwait(false);
            }

            return TimeSpan.Zero;
        }

        return await HeartbeatIfDueAsync(desired, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends the DELETE within <paramref name="bound"/>, unless no registration was ever attempted. The loop must have stopped.</summary>
    public async Task DeregisterAsync(TimeSpan bound, CancellationToken cancellationToken)
    {
        if (!_registrationAttempted)
        {
            return;
        }

        using var deadline = new CancellationTokenSource(bound, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            EurekaCallResult result = await _client.DeregisterAsync(_identity, linked.Token).ConfigureAwait(false);
            if (result.Outcome is EurekaCallOutcome.Success or EurekaCallOutcome.NotFound)
            {
                _state.Set(EurekaRegistration.Deregistered);
                _logger.Deregistered(_identity.AppName, _identity.InstanceId, result.Server);
            }
            else
            {
                _logger.DeregistrationFailed(_identity.AppName, _identity.InstanceId, result.Outcome, result.Detail);
            }
        }
        catch (OperationCanceledException)
        {
            _logger.DeregistrationFailed(_identity.AppName, _identity.InstanceId, EurekaCallOutcome.TimedOut,
                $"no answer within {bound.TotalSeconds:0.###} s (the stop budget)");
        }
    }

    private async Task<TimeSpan> DrainStepAsync(CancellationToken cancellationToken)
    {
        if (!_everRegistered)
        {
            // Nothing ever routed here through Eureka; registering now would only add a lease to delete.
            if (!_drainBeforeRegistrationLogged)
            {
                _drainBeforeRegistrationLogged = true;
                _logger.DrainBeforeRegistration();
            }

            return Timeout.InfiniteTimeSpan;
        }

        if (_lease is null)
        {
            // Lease lost while draining: come back OUT_OF_SERVICE, never UP (the override in the body applies to a new lease;
            // the PUT below makes sure).
            EurekaCallResult registered = await RegisterAsync(EurekaStatus.OutOfService, EurekaStatus.OutOfService, cancellationToken)
                .ConfigureAwait(false);
            if (!registered.Succeeded)
            {
                return Failed(EurekaOperation.Register, registered, RenewalCap, EurekaStatus.OutOfService);
            }

            _overrideSent = false;
            return TimeSpan.Zero;
        }

        if (!_overrideSent)
        {
            EurekaCallResult result = await _client.SetStatusOverrideAsync(_identity, EurekaStatus.OutOfService, _lastDirtyTimestamp, cancellationToken)
                .ConfigureAwait(false);
            if (result.Outcome == EurekaCallOutcome.NotFound)
            {
                return LeaseLost(EurekaStatus.OutOfService);
            }

            if (!result.Succeeded)
            {
                return Failed(EurekaOperation.StatusOverride, result, RenewalCap);
            }

            Succeeded();
            _leaseLostInRow = 0;
            _overrideSent = true;
            _lease = EurekaStatus.OutOfService;
            _state.Set(EurekaRegistration.OutOfService);

            // The override renews the lease on the server.
            _nextHeartbeat = _time.GetTimestamp() + ToTicks(_renewalInterval);
            _logger.OutOfService(_identity.AppName, _identity.InstanceId, result.Server);
            _cachedView?.OnOutOfService();
            return _renewalInterval;
        }

        return await HeartbeatIfDueAsync(EurekaStatus.OutOfService, cancellationToken).ConfigureAwait(false);
    }

    private async Task<TimeSpan> HeartbeatIfDueAsync(EurekaStatus status, CancellationToken cancellationToken)
    {
        long now = _time.GetTimestamp();
        if (now < _nextHeartbeat)
        {
            return _time.GetElapsedTime(now, _nextHeartbeat);
        }

        // The server ignores the status parameter; it is sent for the logs of proxies and servers, as the Java client does.
        EurekaCallResult result = await _client.HeartbeatAsync(_identity, status, _lastDirtyTimestamp, cancellationToken).ConfigureAwait(false);
        if (result.Outcome == EurekaCallOutcome.NotFound)
        {
            return LeaseLost(status);
        }

        if (!result.Succeeded)
        {
            return Failed(EurekaOperation.Heartbeat, result, RenewalCap);
        }

        Succeeded();
        _leaseLostInRow = 0;
        _nextHeartbeat = _time.GetTimestamp() + ToTicks(_renewalInterval);
        return _renewalInterval;
    }

    private TimeSpan LeaseLost(EurekaStatus status)
    {
        _lease = null;
        _overrideSent = false;
        _state.Set(EurekaRegistration.NotRegistered);
        _logger.LeaseLost(_identity.AppName, _identity.InstanceId, status.ToWire());

        // A server that forgets the lease right after every registration must not make this a busy loop.
        return ++_leaseLostInRow > 1
            ? Failed(EurekaOperation.Heartbeat, new EurekaCallResult(EurekaCallOutcome.NotFound, "(any)", 404, "HTTP 404 again right after registering"),
                RenewalCap)
            : TimeSpan.Zero;
    }

    private async Task<EurekaCallResult> RegisterAsync(EurekaStatus status, EurekaStatus overriddenStatus, CancellationToken cancellationToken)
    {
        // Every registration is a change the server must take: a lastDirtyTimestamp older than its own copy would be ignored.
        long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        _lastDirtyTimestamp = Math.Max(now, _lastDirtyTimestamp + 1);
        _registrationAttempted = true;
        EurekaCallResult result = await _client.RegisterAsync(_identity, status, overriddenStatus, _lastDirtyTimestamp, cancellationToken)
            .ConfigureAwait(false);
        if (!result.Succeeded)
        {
            return result;
        }

        Succeeded();
        _lease = status;
        _everRegistered = true;
        _nextHeartbeat = _time.GetTimestamp() + ToTicks(_renewalInterval);
        _state.Set(status switch
        {
            EurekaStatus.Up => EurekaRegistration.Up,
            EurekaStatus.OutOfService => EurekaRegistration.OutOfService,
            _ => EurekaRegistration.Starting,
        });
        _logger.Registered(status.ToWire(), _identity.AppName, _identity.InstanceId, result.Server);
        if (status == EurekaStatus.Up)
        {
            _cachedView?.OnUp();
        }

        return result;
    }

    /// <summary>Reads the instance back to catch a sticky OUT_OF_SERVICE override (an operator's, or an earlier instance's).</summary>
    private async Task VerifyRegistrationAsync(CancellationToken cancellationToken)
    {
        EurekaCallResult result = await _client.GetInstanceAsync(_identity, cancellationToken).ConfigureAwait(false);
        if (!result.Succeeded || result.Body is null)
        {
            return;
        }

        EurekaReadResult<EurekaInstanceStatus> read = EurekaResponseReader.ReadInstanceStatus(result.Body);
        if (!read.Succeeded)
        {
            // Logged once: a server or proxy that answers like this will answer like this every time.
            if (!_unreadableLogged)
            {
                _unreadableLogged = true;
                _logger.UnreadableResponse(EurekaOperation.GetInstance.ToName(), read.Error, read.Detail);
            }

            return;
        }

        EurekaInstanceStatus instance = read.Value!;
        if (instance.Status != EurekaStatus.Up && !_shutdown.DrainStarted.IsCancellationRequested)
        {
            _logger.NotUpAfterRegistration(_identity.AppName, _identity.InstanceId, instance.Status.ToWire(), instance.OverriddenStatus.ToWire());
        }
    }

    /// <summary>Records a failed call, logs it and returns the back-off before the next attempt.</summary>
    private TimeSpan Failed(EurekaOperation operation, EurekaCallResult result, TimeSpan cap, EurekaStatus status = EurekaStatus.Unknown)
    {
        int failures = _state.RecordFailure($"{operation.ToName()}: {result.Outcome} ({result.Detail})");
        TimeSpan delay = RetryBackoff.Delay(failures, cap);
        if (failures > 1)
        {
            _logger.Retry(operation.ToName(), result.Outcome, result.Detail, delay);
        }
        else if (operation == EurekaOperation.Register)
        {
            _logger.RegistrationFailed(status.ToWire(), result.Outcome, result.Detail, delay);
        }
        else if (operation == EurekaOperation.StatusOverride)
        {
            _logger.OutOfServiceFailed(result.Outcome, result.Detail, delay);
        }
        else
        {
            _logger.HeartbeatFailed(result.Outcome, result.Detail, delay);
        }

        return delay;
    }

    private void Succeeded()
    {
        int failures = _state.RecordSuccess();
        if (failures > 0)
        {
            _logger.Recovered(failures);
        }
    }

    private long ToTicks(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);
}
