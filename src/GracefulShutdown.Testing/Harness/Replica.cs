using System.Collections.Concurrent;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace GracefulShutdown.Testing.Harness;

/// <summary>A running replica: its address, its lifecycle as the harness drives it, and what the balancer saw of it.</summary>
internal sealed class Replica : IAsyncDisposable
{
    private static readonly TimeSpan s_disposeBound = TimeSpan.FromSeconds(5);
    private readonly IAsyncDisposable _host;
    private readonly TimeProvider _time;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _removed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<HttpContext, byte> _inFlight = new();
    private readonly IHostApplicationLifetime _lifetime;
    private long _terminationStarted;
    private long _removedAt;
    private long _stoppedAt;
    private long _servedAfterTermination;
    private long _failedAfterTermination;
    private int _killed;
    private int _disposed;

    private Replica(string name, Uri address, IServiceProvider services, IAsyncDisposable host, TimeProvider time)
    {
        Name = name;
        Address = address;
        _host = host;
        _time = time;
        _lifetime = services.GetRequiredService<IHostApplicationLifetime>();
        Library = services.GetService<IGracefulShutdown>();
        _lifetime.ApplicationStopped.Register(() =>
        {
            Interlocked.CompareExchange(ref _stoppedAt, _time.GetTimestamp(), 0);
            _stopped.TrySetResult();
        });
    }

    public string Name { get; }

    public Uri Address { get; }

    /// <summary>The library, when the app uses it (its signal path is then reproduced); <see langword="null"/> for a plain app.</summary>
    public IGracefulShutdown? Library { get; }

    public bool TerminationBegan => Volatile.Read(ref _terminationStarted) != 0;

    public bool IsKilled => Volatile.Read(ref _killed) != 0;

    public Task Stopped => _stopped.Task;

    public Task Removed => _removed.Task;

    /// <summary>Starts the user's app like WebApplicationFactory does, on real Kestrel, off the caller's thread (the start blocks).</summary>
    public static async Task<Replica> StartAsync<TEntryPoint>(string name, RolloutOptions options, CancellationToken cancellationToken)
        where TEntryPoint : class
    {
        SelfContentRoot.EnsureFor(typeof(TEntryPoint).Assembly);
        var factory = new ReplicaFactory<TEntryPoint>(options.ConfigureReplica);
        try
        {
            await Task.Run(factory.StartServer, cancellationToken).WaitAsync(options.StartupTimeout, options.TimeProvider, cancellationToken)
                .ConfigureAwait(false);
            IServiceProvider services = factory.Services;
            string address = services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
                ?? throw new InvalidOperationException($"{name} started but its server reports no address.");
            return new Replica(name, new Uri(address), services, factory, options.TimeProvider);
        }
        catch
        {
            _ = DisposeBoundedAsync(factory, options.TimeProvider);
            throw;
        }
    }

    public void BeginTermination() => Interlocked.CompareExchange(ref _terminationStarted, _time.GetTimestamp(), 0);

    /// <summary>The in-process SIGTERM (see the package README for what differs from a real signal).</summary>
    public void SignalTerminate()
    {
        if (Library is not null)
        {
            // The library's signal path: the traffic wait (not repeated after a preStop), the drain participants, then the host's
            // stop with what is left of the budget — what its SIGTERM handler asks for.
            Library.RequestStop();
            return;
        }

        // What .NET's ConsoleLifetime does on SIGTERM.
        _lifetime.StopApplication();
    }

    /// <summary>SIGKILL: every connection through the balancer to this replica is aborted, and it gets no more traffic.</summary>
    public void Kill()
    {
        Volatile.Write(ref _killed, 1);
        foreach (HttpContext context in _inFlight.Keys)
        {
            context.Abort();
        }
    }

    /// <summary>The balancer took the terminating replica out of rotation.</summary>
    public void MarkRemoved()
    {
        Interlocked.CompareExchange(ref _removedAt, _time.GetTimestamp(), 0);
        _removed.TrySetResult();
    }

    public bool BeginRequest(HttpContext context)
    {
        _inFlight.TryAdd(context, 0);
        if (IsKilled)
        {
            context.Abort();
        }

        return TerminationBegan;
    }

    public void EndRequest(HttpContext context, bool sentAfterTermination, bool failed)
    {
        _inFlight.TryRemove(context, out _);
        if (sentAfterTermination)
        {
            Interlocked.Increment(ref failed ? ref _failedAfterTermination : ref _servedAfterTermination);
        }
    }

    public ReplicaReport Report(int? preStopStatus, string? preStopError)
    {
        long started = Volatile.Read(ref _terminationStarted);
        TimeSpan? Since(long at) => at == 0 || started == 0 ? null : _time.GetElapsedTime(started, at);
        return new ReplicaReport(Name, preStopStatus, preStopError, Since(Volatile.Read(ref _removedAt)),
            IsKilled ? null : Since(Volatile.Read(ref _stoppedAt)), IsKilled,
            Interlocked.Read(ref _servedAfterTermination), Interlocked.Read(ref _failedAfterTermination));
    }

    /// <summary>Disposes the host, bounded in time: a killed replica's host may still be stopping.</summary>
    public ValueTask DisposeAsync() =>
        Interlocked.Exchange(ref _disposed, 1) == 0 ? new ValueTask(DisposeBoundedAsync(_host, _time)) : ValueTask.CompletedTask;

    private static async Task DisposeBoundedAsync(IAsyncDisposable host, TimeProvider time)
    {
        try
        {
            await host.DisposeAsync().AsTask().WaitAsync(s_disposeBound, time).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // A replica that fails or hangs while being disposed must not fail the report of the rollout.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }
}
