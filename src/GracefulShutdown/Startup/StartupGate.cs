namespace GracefulShutdown.Startup;

/// <summary>Start-up work that holds readiness until it completes.</summary>
internal sealed record StartupGate(string Name, Func<IServiceProvider, CancellationToken, Task> WaitAsync);
