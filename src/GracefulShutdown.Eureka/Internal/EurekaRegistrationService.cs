using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulShutdown.Eureka.Internal;

/// <summary>
/// Keeps this instance's Eureka registration in step with the lifecycle:
/// STARTING once the host has started (the port is known then), UP when <see cref="IGracefulShutdown.WhenReady"/> completes,
/// the OUT_OF_SERVICE admin override as soon as <see cref="IGracefulShutdown.DrainStarted"/> fires (heartbeats continue,
/// so the lease is not lost and re-registered UP), and DELETE in <see cref="StopAsync"/>, after the traffic wait and the server drain.
/// </summary>
/// <remarks>
/// One background loop makes every call, so the state needs no locks: each <see cref="StepAsync"/> compares what the
/// lifecycle wants with what the server last confirmed and makes at most one change. Nothing here can hold the application:
/// the loop never throws, every call is bounded by the request timeout, and a failing server only means backoff and logs.
/// </remarks>
internal sealed class EurekaRegistrationService : IHostedLifecycleService, IDisposable
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(1);

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
    private readonly Action<TimeSpan>? _onWaiting;
    private readonly string? _disabledReason;
    private readonly CancellationTokenSource _stopping = new();

    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenRegistration _onDrain;
    private Task? _loop;
    private EurekaInstanceIdentity? _identity;

    // Loop-only state: what the server last confirmed.
    private EurekaStatus? _lease;
    private bool _overrideSent;
    private bool _everRegistered;
    private bool _registrationAttempted;
    private bool _drainBeforeRegistrationLogged;
    private int _leaseLostInRow;
    private long _lastDirtyTimestamp;
    private long _nextHeartbeat;
    private int _unreadableLogged;

    public EurekaRegistrationService(EurekaHttpClient client, IGracefulShutdown shutdown, EurekaRegistrationState state,
        IOptions<EurekaClientOptions> clientOptions, IOptions<EurekaInstanceOptions> instanceOptions, IOptions<GracefulShutdownOptions> shutdownOptions,
        IHostEnvironment environment, IServiceProvider services, TimeProvider time, ILogger<EurekaRegistrationService> logger)
        : this(client, shutdown, state, clientOptions, instanceOptions, shutdownOptions, environment, services, time, logger, onWaiting: null)
    {
    }

    // onWaiting is called each time the loop starts waiting, once its timer is armed: tests advance fake time then.
    internal EurekaRegistrationService(EurekaHttpClient client, IGracefulShutdown shutdown, EurekaRegistrationState state,
        IOptions<EurekaClientOptions> clientOptions, IOptions<EurekaInstanceOptions> instanceOptions, IOptions<GracefulShutdownOptions> shutdownOptions,
        IHostEnvironment environment, IServiceProvider services, TimeProvider time, ILogger<EurekaRegistrationService> logger, Action<TimeSpan>? onWaiting)
    {
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
        _onWaiting = onWaiting;
        _disabledReason = DisabledReason(_clientOptions, client);
        if (_disabledReason is not null)
        {
            _state.Set(EurekaRegistration.Off);
        }
    }

    public bool IsEnabled => _disabledReason is null;

    /// <summary>Gets the loop task (for tests).</summary>
    internal Task? Loop => _loop;

    internal EurekaInstanceIdentity? Identity => _identity;

    private TimeSpan RenewalInterval => TimeSpan.FromSeconds(_identity?.LeaseRenewalIntervalInSeconds ?? _instanceOptions.LeaseRenewalIntervalInSeconds);

    private TimeSpan RequestTimeout => TimeSpan.FromSeconds(_clientOptions.RequestTimeoutSeconds);

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        if (_disabledReason is not null)
        {
            _logger.Disabled(_disabledReason);
            return Task.CompletedTask;
        }

        WarnIfTrafficWaitTooShort();
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        if (_disabledReason is null)
        {
            Initialize(ResolveIdentity());
            StartLoop();
        }

        return Task.CompletedTask;
    }

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Runs after the traffic wait and the server drain (both happen in the core's <c>StoppingAsync</c>), so the instance stayed
    /// registered, OUT_OF_SERVICE and heartbeating, for the whole time callers' caches needed. Stops the loop first, so that
    /// no heartbeat can re-register the instance after the DELETE.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_loop is null || _identity is null)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The host's stop budget is spent; still try the DELETE below, it has its own bound.
        }

        if (_registrationAttempted)
        {
            await DeregisterAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    internal void Initialize(EurekaInstanceIdentity identity)
    {
        _identity = identity;
        _logger.Configured(identity.AppName, identity.InstanceId, identity.HostName, identity.IpAddress, identity.Port,
            identity.LeaseRenewalIntervalInSeconds, string.Join(", ", _client.Servers));
    }

    internal void StartLoop()
    {
        // Both wake the loop so that it reacts at once rather than at the next heartbeat.
        _shutdown.WhenReady.ContinueWith(static (_, state) => ((EurekaRegistrationService)state!).Wake(), this,
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        _onDrain = _shutdown.DrainStarted.Register(static state => ((EurekaRegistrationService)state!).Wake(), this);
        _loop = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                // Reset before the step reads the lifecycle, so that a change during the step ends the wait after it at once.
                Task wake = ResetWake();
                TimeSpan next = await StepAsync(stopping).ConfigureAwait(false);
                if (next > TimeSpan.Zero || next == Timeout.InfiniteTimeSpan)
                {
                    await WaitAsync(next, wake, stopping).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Stopping.
        }
#pragma warning disable CA1031 // The registration must never take the application down; the failure is logged as an error.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _logger.LoopFailed(ex);
        }
    }

    /// <summary>
    /// Makes at most one change towards what the lifecycle wants, and returns how long to wait before the next step
    /// (<see cref="TimeSpan.Zero"/>: at once; <see cref="Timeout.InfiniteTimeSpan"/>: until the lifecycle changes).
    /// </summary>
    internal async Task<TimeSpan> StepAsync(CancellationToken cancellationToken)
    {
        EurekaInstanceIdentity identity = _identity ?? throw new InvalidOperationException("Initialize first.");
        if (_shutdown.DrainStarted.IsCancellationRequested)
        {
            return await DrainStepAsync(identity, cancellationToken).ConfigureAwait(false);
        }

        // STARTING first, always: peers and dashboards see the instance arrive before it takes traffic.
        EurekaStatus desired = _everRegistered && _shutdown.WhenReady.IsCompletedSuccessfully ? EurekaStatus.Up : EurekaStatus.Starting;
        if (_lease != desired)
        {
            EurekaCallResult registered = await RegisterAsync(identity, desired, EurekaStatus.Unknown, cancellationToken).ConfigureAwait(false);
            if (!registered.Succeeded)
            {
                return Failed("register", registered, RegistrationRetryCap, desired);
            }

            if (desired == EurekaStatus.Up)
            {
                await VerifyRegistrationAsync(identity, cancellationToken).ConfigureAwait(false);
            }

            return TimeSpan.Zero;
        }

        return await HeartbeatIfDueAsync(identity, desired, cancellationToken).ConfigureAwait(false);
    }

    private async Task<TimeSpan> DrainStepAsync(EurekaInstanceIdentity identity, CancellationToken cancellationToken)
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
            // The lease was lost while draining: come back OUT_OF_SERVICE, never UP. The body's status is honoured for a new
            // lease and its override is copied into the server's override map when none is there; the PUT below makes sure.
            EurekaCallResult registered = await RegisterAsync(identity, EurekaStatus.OutOfService, EurekaStatus.OutOfService, cancellationToken)
                .ConfigureAwait(false);
            if (!registered.Succeeded)
            {
                return Failed("register", registered, RenewalCap, EurekaStatus.OutOfService);
            }

            _overrideSent = false;
            return TimeSpan.Zero;
        }

        if (!_overrideSent)
        {
            EurekaCallResult result = await _client.SetStatusOverrideAsync(identity, EurekaStatus.OutOfService, _lastDirtyTimestamp, cancellationToken)
                .ConfigureAwait(false);
            if (result.Outcome == EurekaCallOutcome.NotFound)
            {
                return LeaseLost(identity, EurekaStatus.OutOfService);
            }

            if (!result.Succeeded)
            {
                return Failed("status_override", result, RenewalCap);
            }

            Succeeded();
            _leaseLostInRow = 0;
            _overrideSent = true;
            _lease = EurekaStatus.OutOfService;
            _state.Set(EurekaRegistration.OutOfService);

            // The override renews the lease on the server.
            _nextHeartbeat = _time.GetTimestamp() + ToTicks(RenewalInterval);
            _logger.OutOfService(identity.AppName, identity.InstanceId, result.Server);
            return RenewalInterval;
        }

        return await HeartbeatIfDueAsync(identity, EurekaStatus.OutOfService, cancellationToken).ConfigureAwait(false);
    }

    private async Task<TimeSpan> HeartbeatIfDueAsync(EurekaInstanceIdentity identity, EurekaStatus status, CancellationToken cancellationToken)
    {
        long now = _time.GetTimestamp();
        if (now < _nextHeartbeat)
        {
            return _time.GetElapsedTime(now, _nextHeartbeat);
        }

        // The server ignores the status parameter; it is sent for the logs of proxies and servers, as the Java client does.
        EurekaCallResult result = await _client.HeartbeatAsync(identity, status, _lastDirtyTimestamp, cancellationToken).ConfigureAwait(false);
        if (result.Outcome == EurekaCallOutcome.NotFound)
        {
            return LeaseLost(identity, status);
        }

        if (!result.Succeeded)
        {
            return Failed("heartbeat", result, RenewalCap);
        }

        Succeeded();
        _leaseLostInRow = 0;
        _nextHeartbeat = _time.GetTimestamp() + ToTicks(RenewalInterval);
        return RenewalInterval;
    }

    private TimeSpan LeaseLost(EurekaInstanceIdentity identity, EurekaStatus status)
    {
        _lease = null;
        _overrideSent = false;
        _state.Set(EurekaRegistration.NotRegistered);
        _logger.LeaseLost(identity.AppName, identity.InstanceId, status.ToWire());

        // A server that forgets the lease right after every registration must not make this a busy loop.
        return ++_leaseLostInRow > 1
            ? Failed("heartbeat", new EurekaCallResult(EurekaCallOutcome.NotFound, "(any)", 404, "HTTP 404 again right after registering"), RenewalCap)
            : TimeSpan.Zero;
    }

    private async Task<EurekaCallResult> RegisterAsync(EurekaInstanceIdentity identity, EurekaStatus status, EurekaStatus overriddenStatus,
        CancellationToken cancellationToken)
    {
        // Every registration is a change the server must take: a lastDirtyTimestamp older than its own copy would be ignored.
        long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        _lastDirtyTimestamp = Math.Max(now, _lastDirtyTimestamp + 1);
        _registrationAttempted = true;
        EurekaCallResult result = await _client.RegisterAsync(identity, status, overriddenStatus, _lastDirtyTimestamp, cancellationToken)
            .ConfigureAwait(false);
        if (!result.Succeeded)
        {
            return result;
        }

        Succeeded();
        _lease = status;
        _everRegistered = true;
        _nextHeartbeat = _time.GetTimestamp() + ToTicks(RenewalInterval);
        _state.Set(status switch
        {
            EurekaStatus.Up => EurekaRegistration.Up,
            EurekaStatus.OutOfService => EurekaRegistration.OutOfService,
            _ => EurekaRegistration.Starting,
        });
        _logger.Registered(status.ToWire(), identity.AppName, identity.InstanceId, result.Server);
        return result;
    }

    /// <summary>
    /// Reads the instance back (the one live, uncached read) to catch a sticky OUT_OF_SERVICE override left by an operator or by an
    /// earlier instance with the same id: the registration would then succeed and yet no caller would ever route here.
    /// </summary>
    private async Task VerifyRegistrationAsync(EurekaInstanceIdentity identity, CancellationToken cancellationToken)
    {
        EurekaCallResult result = await _client.GetInstanceAsync(identity, cancellationToken).ConfigureAwait(false);
        if (!result.Succeeded || result.Body is null)
        {
            return;
        }

        EurekaReadResult<EurekaInstance> read = EurekaResponseReader.ReadInstance(result.Body);
        if (!read.Succeeded)
        {
            // Logged once per process: a server or proxy that answers like this will answer like this every time.
            if (Interlocked.Exchange(ref _unreadableLogged, 1) == 0)
            {
                _logger.UnreadableResponse("get_instance", read.Error, read.Detail);
            }

            return;
        }

        EurekaInstance instance = read.Value!;
        if (instance.Status != EurekaStatus.Up && !_shutdown.DrainStarted.IsCancellationRequested)
        {
            _logger.NotUpAfterRegistration(identity.AppName, identity.InstanceId, instance.Status.ToWire(), instance.OverriddenStatus.ToWire());
        }
    }

    private async Task DeregisterAsync(CancellationToken cancellationToken)
    {
        EurekaInstanceIdentity identity = _identity!;

        // Bounded on its own so that a hanging server cannot eat the stop budget of the services after this one.
        TimeSpan bound = _shutdownOptions.StopMargin > TimeSpan.Zero && _shutdownOptions.StopMargin < RequestTimeout
            ? _shutdownOptions.StopMargin
            : RequestTimeout;
        using var deadline = new CancellationTokenSource(bound, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            EurekaCallResult result = await _client.DeregisterAsync(identity, linked.Token).ConfigureAwait(false);
            if (result.Outcome is EurekaCallOutcome.Success or EurekaCallOutcome.NotFound)
            {
                _state.Set(EurekaRegistration.Deregistered);
                _logger.Deregistered(identity.AppName, identity.InstanceId, result.Server);
            }
            else
            {
                _logger.DeregistrationFailed(identity.AppName, identity.InstanceId, result.Outcome, result.Detail);
            }
        }
        catch (OperationCanceledException)
        {
            _logger.DeregistrationFailed(identity.AppName, identity.InstanceId, EurekaCallOutcome.TimedOut,
                $"no answer within {bound.TotalSeconds:0.###} s (the stop budget)");
        }
    }

    private TimeSpan RegistrationRetryCap => TimeSpan.FromSeconds(_clientOptions.RetryMaximumIntervalSeconds);

    // While registered, retrying more often than the heartbeat interval helps nobody.
    private TimeSpan RenewalCap => RegistrationRetryCap < RenewalInterval ? RegistrationRetryCap : RenewalInterval;

    /// <summary>Records a failed call and returns the capped exponential backoff: 1 s, 2 s, 4 s … up to <paramref name="cap"/>.</summary>
    private TimeSpan Failed(string operation, EurekaCallResult result, TimeSpan cap, EurekaStatus status = EurekaStatus.Unknown)
    {
        int failures = _state.RecordFailure($"{operation}: {result.Outcome} ({result.Detail})");
        double factor = Math.Pow(2, Math.Min(failures - 1, 20));
        TimeSpan delay = TimeSpan.FromTicks((long)Math.Min(FirstRetry.Ticks * factor, cap.Ticks));
        if (failures > 1)
        {
            _logger.Retry(operation, result.Outcome, result.Detail, delay);
        }
        else if (operation == "register")
        {
            _logger.RegistrationFailed(status.ToWire(), result.Outcome, result.Detail, delay);
        }
        else if (operation == "status_override")
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

    private Task ResetWake()
    {
        var wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _wake, wake);
        return wake.Task;
    }

    private void Wake() => Volatile.Read(ref _wake).TrySetResult();

    private async Task WaitAsync(TimeSpan delay, Task wake, CancellationToken stopping)
    {
        using var cancelDelay = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        Task delayTask = Task.Delay(delay, _time, cancelDelay.Token);
        _onWaiting?.Invoke(delay);
        await Task.WhenAny(delayTask, wake).ConfigureAwait(false);
        await cancelDelay.CancelAsync().ConfigureAwait(false);
        stopping.ThrowIfCancellationRequested();
    }

    private long ToTicks(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);

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

    private void WarnIfTrafficWaitTooShort()
    {
        if (_clientOptions.PropagationSeconds <= 0)
        {
            return;
        }

        var propagation = TimeSpan.FromSeconds(_clientOptions.PropagationSeconds);
        TimeSpan maximum = _shutdownOptions.TrafficWait.Maximum;
        if (maximum < propagation)
        {
            _logger.TrafficWaitTooShort(maximum, propagation, _clientOptions.PropagationSeconds,
                propagation + _shutdownOptions.DrainTimeout + _shutdownOptions.StopMargin);
        }
    }

    private static string? DisabledReason(EurekaClientOptions options, EurekaHttpClient client)
    {
        if (!options.Enabled)
        {
            return "eureka:client:enabled is false";
        }

        if (!options.ShouldRegisterWithEureka)
        {
            return "eureka:client:shouldRegisterWithEureka is false";
        }

        return client.Servers.Count == 0 ? "eureka:client:serviceUrl is not set" : null;
    }

    public void Dispose()
    {
        _onDrain.Dispose();
        _stopping.Dispose();
    }
}
