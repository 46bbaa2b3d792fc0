using System.Net;
using System.Net.Sockets;
using GracefulShutdown.Diagnostics;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulShutdown.Endpoints;

/// <summary>
/// TCP probe ports (<c>Endpoints:TcpReadinessPort</c>, <c>Endpoints:TcpLivenessPort</c>) for <c>tcpSocket</c> probes: a port
/// listens while its probe passes and is closed while it fails, re-evaluated every <c>CheckResultCacheDuration</c> (at most every
/// second, at least every 100 ms) from <see cref="IGracefulShutdownProbes"/>; the readiness port closes the moment readiness is
/// lost. A connection is accepted and closed at once: the connect is the answer.
/// </summary>
internal sealed class TcpProbePorts(IGracefulShutdownProbes probes, IOptions<GracefulShutdownOptions> options, TimeProvider time,
    ILogger<TcpProbePorts> logger) : IHostedService, IDisposable
{
    private readonly List<ProbePort> _ports = [];
    private ITimer? _timer;
    private CancellationTokenRegistration _readinessLost;
    private readonly SemaphoreSlim _evaluating = new(1, 1);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        GracefulShutdownEndpointOptions endpoints = options.Value.Endpoints;
        if (endpoints.TcpReadinessPort is int readiness)
        {
            _ports.Add(new ProbePort(GracefulShutdownProbe.Readiness, readiness, logger));
        }

        if (endpoints.TcpLivenessPort is int liveness)
        {
            _ports.Add(new ProbePort(GracefulShutdownProbe.Liveness, liveness, logger));
        }

        if (_ports.Count == 0)
        {
            return Task.CompletedTask;
        }

        TimeSpan period = TimeSpan.FromTicks(Math.Clamp(endpoints.CheckResultCacheDuration.Ticks, TimeSpan.TicksPerMillisecond * 100, TimeSpan.TicksPerSecond));
        _timer = time.CreateTimer(static ports => _ = ((TcpProbePorts)ports!).TickAsync(), this, TimeSpan.Zero, period);
        _readinessLost = probes.ReadinessLost.Register(static ports =>
        {
            foreach (ProbePort port in ((TcpProbePorts)ports!)._ports)
            {
                if (port.Probe == GracefulShutdownProbe.Readiness)
                {
                    port.Set(listening: false);
                }
            }
        }, this);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    /// <summary>Evaluates every port's probe once and opens or closes the port, after any evaluation in progress.</summary>
    public async Task EvaluateAsync()
    {
        await _evaluating.WaitAsync().ConfigureAwait(false);
        await EvaluateHeldAsync().ConfigureAwait(false);
    }

    public void Dispose()
    {
        _timer?.Dispose();
        _readinessLost.Dispose();
        foreach (ProbePort port in _ports)
        {
            port.Close();
        }
    }

    /// <summary>The timer's step: skipped while an evaluation is still running (a slow health check).</summary>
    private async Task TickAsync()
    {
        if (await _evaluating.WaitAsync(0).ConfigureAwait(false))
        {
            await EvaluateHeldAsync().ConfigureAwait(false);
        }
    }

    private async Task EvaluateHeldAsync()
    {
        try
        {
            foreach (ProbePort port in _ports)
            {
                HealthStatus status = await probes.CheckAsync(port.Probe).ConfigureAwait(false);
                port.Set(listening: status != HealthStatus.Unhealthy && !(port.Probe == GracefulShutdownProbe.Readiness && probes.ReadinessLost.IsCancellationRequested));
            }
        }
        finally
        {
            _evaluating.Release();
        }
    }

    private sealed class ProbePort(GracefulShutdownProbe probe, int port, ILogger logger)
    {
        private readonly Lock _sync = new();
        private TcpListener? _listener;
        private bool _closed;

        public GracefulShutdownProbe Probe => probe;

        /// <summary>Closes the port for good: an evaluation still running when the host stops cannot open it again.</summary>
        public void Close()
        {
            lock (_sync)
            {
                _closed = true;
            }

            Set(listening: false);
        }

        public void Set(bool listening)
        {
            lock (_sync)
            {
                if (listening && _listener is null && !_closed)
                {
                    try
                    {
                        _listener = Listen(port);
                    }
                    catch (SocketException ex)
                    {
                        logger.TcpProbePortFailed(probe, port, ex);
                        return;
                    }

                    _ = AcceptAsync(_listener);
                    logger.TcpProbePortChanged(probe, port, "listening");
                }
                else if (!listening && _listener is not null)
                {
                    _listener.Stop();
                    _listener.Dispose();
                    _listener = null;
                    logger.TcpProbePortChanged(probe, port, "closed");
                }
            }
        }

        private static TcpListener Listen(int port)
        {
            var listener = new TcpListener(IPAddress.IPv6Any, port);
            try
            {
                listener.Server.DualMode = true;
                listener.Start();
                return listener;
            }
            catch (SocketException)
            {
                // No IPv6 on this host: IPv4 only.
                listener.Dispose();
                var v4 = new TcpListener(IPAddress.Any, port);
                v4.Start();
                return v4;
            }
        }

        private static async Task AcceptAsync(TcpListener listener)
        {
            while (true)
            {
                try
                {
                    using Socket accepted = await listener.AcceptSocketAsync().ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is SocketException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }
            }
        }
    }
}
