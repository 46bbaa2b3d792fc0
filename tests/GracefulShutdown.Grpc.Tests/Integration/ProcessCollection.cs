namespace GracefulShutdown.Grpc.Tests.Integration;

/// <summary>Real processes and real ports: one test at a time, so that timings are not skewed by the others.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessCollection
{
    public const string Name = "Processes";
}
