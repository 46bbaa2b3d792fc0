namespace GracefulShutdown.Testing.TestApp;

/// <summary>A dependency every replica in the process shares (the replicas of a rollout run in one process).</summary>
internal static class SharedDependency
{
    private static long s_downUntil;

    public static bool IsDown => TimeProvider.System.GetTimestamp() < Interlocked.Read(ref s_downUntil);

    public static void GoDown(TimeSpan outage) =>
        Interlocked.Exchange(ref s_downUntil, TimeProvider.System.GetTimestamp() + (long)(outage.TotalSeconds * TimeProvider.System.TimestampFrequency));
}
