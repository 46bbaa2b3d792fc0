using System.Diagnostics;

namespace GracefulShutdown.GrpcRollout;

/// <summary>Progress lines on stdout, stamped with the seconds since the harness started.</summary>
internal static class Log
{
    private static readonly long Start = Stopwatch.GetTimestamp();

    public static double Now => Stopwatch.GetElapsedTime(Start).TotalSeconds;

    public static void Info(string message) => Console.WriteLine($"[{Now,7:F2}s] {message}");
}
