using System.Collections.Concurrent;

namespace GracefulShutdown.Testing.Harness;

/// <summary>Counts by kind, from any thread.</summary>
internal sealed class FailureCounter
{
    private readonly ConcurrentDictionary<string, long> _counts = new(StringComparer.Ordinal);

    public void Add(string kind) => _counts.AddOrUpdate(kind, 1, static (_, n) => n + 1);

    public IReadOnlyDictionary<string, long> Snapshot() => new Dictionary<string, long>(_counts, StringComparer.Ordinal);
}
