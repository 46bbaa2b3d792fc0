using GracefulShutdown.Internal;
using Microsoft.AspNetCore.Http;

namespace GracefulShutdown.Benchmarks;

/// <summary>
/// NOT the library: a prototype of a proposed change to <see cref="GracefulShutdownMiddleware"/>, measured next to it.
/// Instead of awaiting an incomplete app task in an async method (which boxes a state machine per request), it hangs a
/// cached, state-free continuation on the task and returns the task itself.
/// </summary>
internal sealed class PrototypeMiddleware
{
    private readonly RequestDelegate _next;
    private readonly ShutdownCoordinator _coordinator;
    private readonly Action _onFinished;

    public PrototypeMiddleware(RequestDelegate next, ShutdownCoordinator coordinator)
    {
        _next = next;
        _coordinator = coordinator;
        _onFinished = coordinator.OnRequestFinished;
    }

    public Task InvokeAsync(HttpContext context)
    {
        _coordinator.OnRequestStarted();
        Task task;
        try
        {
            task = _next(context);
        }
        catch
        {
            _coordinator.OnRequestFinished();
            throw;
        }

        if (task.IsCompleted)
        {
            _coordinator.OnRequestFinished();
        }
        else
        {
            // Runs on completion whatever the outcome; no ExecutionContext capture, no allocation for the first continuation.
            task.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onFinished);
        }

        return task;
    }
}
