namespace GracefulShutdown.Testing.Harness;

/// <summary>A replica's answer on the readiness endpoint.</summary>
internal enum Readiness
{
    Passing,
    Absent,
    Failing,
}
