namespace GracefulShutdown.GrpcRollout;

/// <summary>One mode and variant's rolling update: the calls, the failures and every termination.</summary>
internal sealed record RunResult(string Mode, string Variant, long Calls, double Rate, long Failed, Dictionary<string, long> FailuresByStatus,
    string[] FailureSamples, List<Termination> Terminations, double P99Ms);
