namespace GracefulShutdown.GrpcRollout;

/// <summary>What happened to one terminated replica, in seconds after its SIGTERM.</summary>
internal sealed record Termination(string Replica, int Round)
{
    public double BeganAt { get; set; }

    public double? ExitAfter { get; set; }
    public int? ExitCode { get; set; }
    public bool Killed { get; set; }
    public long CallsAfterDrainBegan { get; set; }
    public double? LastCallAfter { get; set; }
    public double? WatchNotServingMs { get; set; }
    public string? StreamStatus { get; set; }
    public double? StreamEndedAfter { get; set; }
}
