using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace GracefulShutdown.Grpc.Tests;

/// <summary>Collects log events and lets a test wait for one by event id.</summary>
internal sealed class LogSink : ILoggerProvider
{
    private readonly ConcurrentQueue<(int EventId, string Message)> _events = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource<string>> _waiters = new();

    public IReadOnlyCollection<(int EventId, string Message)> Events => _events;

    public Task<string> WaitForEventAsync(int eventId) =>
        _waiters.GetOrAdd(eventId, static _ => new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously))
            .Task.WaitAsync(TimeSpan.FromSeconds(30));

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private void Add(int eventId, string message)
    {
        _events.Enqueue((eventId, message));
        _waiters.GetOrAdd(eventId, static _ => new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously))
            .TrySetResult(message);
    }

    private sealed class Logger(LogSink sink) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            sink.Add(eventId.Id, formatter(state, exception));
    }
}
