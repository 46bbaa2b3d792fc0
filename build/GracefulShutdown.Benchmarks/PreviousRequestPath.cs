using GracefulShutdown.Endpoints;
using Microsoft.AspNetCore.Http;

namespace GracefulShutdown.Benchmarks;

/// <summary>
/// The per-request path as released before the traffic wait read its evidence (0.1.0): an in-flight counter of its own, a phase
/// read, and the same <c>OnCompleted</c> count-down. Kept here so that "before" and "after" are measured in one run.
/// </summary>
internal sealed class PreviousRequestPath(RequestDelegate next, LifecycleEndpoints endpoints)
{
    private const int Draining = 2;

    private static readonly Func<object, Task> s_onCompleted = static path =>
    {
        Interlocked.Decrement(ref ((PreviousRequestPath)path)._inFlight);
        return Task.CompletedTask;
    };

    private long _inFlight;
    private int _phase;

    public long InFlight => Volatile.Read(ref _inFlight);

    public void BeginDrain() => Volatile.Write(ref _phase, Draining);

    public Task InvokeAsync(HttpContext context)
    {
        if (endpoints.Match(context) is RequestDelegate endpoint)
        {
            return endpoint(context);
        }

        Interlocked.Increment(ref _inFlight);
        if (Volatile.Read(ref _phase) >= Draining)
        {
            context.Response.Headers.Connection = "close";
        }

        context.Response.OnCompleted(s_onCompleted, this);
        return next(context);
    }
}
