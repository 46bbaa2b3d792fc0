using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace GracefulShutdown.Kubernetes.Tests.Integration;

/// <summary>
/// A logger provider that keeps every record, numbered in the order it was logged (across threads), and lets a test wait for an
/// event id (no polling).
/// </summary>
internal sealed class LogEvents : ILoggerProvider
{
    private readonly ConcurrentQueue<(long Sequence, int Id, LogLevel Level, string Message)> _records = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource> _seen = new();
    private long _sequence;

    public IReadOnlyList<(long Sequence, int Id, LogLevel Level, string Message)> Records => [.. _records];

    public IEnumerable<(long Sequence, int Id, LogLevel Level, string Message)> Of(int id) => _records.Where(r => r.Id == id);

    /// <summary>Completes when event <paramref name="id"/> has been logged (now or before).</summary>
    public Task WhenLogged(int id) => Seen(id).Task;

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private TaskCompletionSource Seen(int id) =>
        _seen.GetOrAdd(id, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    private sealed class Logger(LogEvents owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            owner._records.Enqueue((Interlocked.Increment(ref owner._sequence), eventId.Id, logLevel, formatter(state, exception)));
            owner.Seen(eventId.Id).TrySetResult();
        }
    }
}
