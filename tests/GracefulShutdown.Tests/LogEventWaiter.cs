using Microsoft.Extensions.Logging;

namespace GracefulShutdown.Tests;

/// <summary>A logger provider that completes <see cref="Logged"/> when an event with the given id is logged.</summary>
internal sealed class LogEventWaiter(int eventId) : ILoggerProvider, ILogger
{
    private readonly TaskCompletionSource _logged = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Logged => _logged.Task;

    public ILogger CreateLogger(string categoryName) => this;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId id, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (id.Id == eventId)
        {
            _logged.TrySetResult();
        }
    }

    public void Dispose()
    {
    }
}
