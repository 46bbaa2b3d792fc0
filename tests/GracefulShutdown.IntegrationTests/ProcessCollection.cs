namespace GracefulShutdown.IntegrationTests;

/// <summary>
/// Real processes and real ports: one test at a time, so that timings are not skewed by the others. Classes in this collection
/// also carry <c>[Trait("Category", "Process")]</c>, which <c>build/test.sh --fast</c> leaves out.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessCollection
{
    public const string Name = "Processes";
}
