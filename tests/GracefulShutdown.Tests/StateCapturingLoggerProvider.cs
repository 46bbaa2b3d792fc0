using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace GracefulShutdown.Tests;

/// <summary>
/// Keeps each log entry's structured state as the objects the library passed (the fake logger keeps only their text), so a
/// test can check what a structured formatter such as the JSON console formatter would be handed.
/// </summary>
internal sealed class StateCapturingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<CapturedState> _entries = new();

    public IReadOnlyList<CapturedState> Entries => [.. _entries];

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<CapturedState> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            IReadOnlyList<KeyValuePair<string, object?>> values = state as IReadOnlyList<KeyValuePair<string, object?>> ?? [];
            entries.Enqueue(new CapturedState(category, eventId.Id, [.. values]));
        }
    }
}

/// <summary>One log entry's category, event id and structured values.</summary>
internal sealed record CapturedState(string Category, int EventId, IReadOnlyList<KeyValuePair<string, object?>> Values);
