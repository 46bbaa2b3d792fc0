using System.Globalization;

namespace GracefulShutdown.Testing;

/// <summary>What happened to one replica that the rollout terminated.</summary>
public sealed class ReplicaReport
{
    internal ReplicaReport(string name, int? preStopStatusCode, string? preStopError, TimeSpan? removedAfter, TimeSpan? stoppedAfter,
        bool killed, long servedAfterTerminationBegan, long failedAfterTerminationBegan)
    {
        Name = name;
        PreStopStatusCode = preStopStatusCode;
        PreStopError = preStopError;
        RemovedAfter = removedAfter;
        StoppedAfter = stoppedAfter;
        Killed = killed;
        ServedAfterTerminationBegan = servedAfterTerminationBegan;
        FailedAfterTerminationBegan = failedAfterTerminationBegan;
    }

    /// <summary>Gets the replica's name: <c>replica-N</c>, numbered in start order.</summary>
    public string Name { get; }

    /// <summary>Gets the status code the preStop hook answered, or <see langword="null"/> when there was no hook or it failed.</summary>
    public int? PreStopStatusCode { get; }

    /// <summary>Gets why the preStop call failed (transport error, grace period over), or <see langword="null"/>.</summary>
    public string? PreStopError { get; }

    /// <summary>Gets how long after its termination began the balancer took the replica out of rotation, or <see langword="null"/> if it never did.</summary>
    public TimeSpan? RemovedAfter { get; }

    /// <summary>Gets how long after its termination began the replica's host stopped (ApplicationStopped), or <see langword="null"/> if it was killed first.</summary>
    public TimeSpan? StoppedAfter { get; }

    /// <summary>Gets a value indicating whether the replica was still running at the grace period and was killed (its connections aborted).</summary>
    public bool Killed { get; }

    /// <summary>Gets how many requests the replica answered with a status below 500 after its termination began (the traffic a drain must keep serving).</summary>
    public long ServedAfterTerminationBegan { get; }

    /// <summary>Gets how many requests sent to the replica after its termination began failed at the balancer (status 500 or above, or a transport error).</summary>
    public long FailedAfterTerminationBegan { get; }

    /// <inheritdoc/>
    public override string ToString()
    {
        string preStop = PreStopStatusCode is int code ? code.ToString(CultureInfo.InvariantCulture) : PreStopError ?? "none";
        string removed = RemovedAfter is TimeSpan r ? Seconds(r) : "never";
        string stopped = Killed ? "KILLED at the grace period" : StoppedAfter is TimeSpan s ? $"stopped {Seconds(s)}" : "did not stop";
        return string.Create(CultureInfo.InvariantCulture,
            $"{Name}: preStop {preStop}, out of rotation {removed}, {stopped} after termination began; served {ServedAfterTerminationBegan}, failed {FailedAfterTerminationBegan} after it began");
    }

    internal static string Seconds(TimeSpan value) => value.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture) + " s";
}
