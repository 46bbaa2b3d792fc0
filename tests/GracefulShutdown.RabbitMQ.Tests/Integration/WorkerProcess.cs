using System.Diagnostics;
using GracefulShutdown.Testing.Processes;

namespace GracefulShutdown.RabbitMQ.Tests.Integration;

/// <summary>The worker sample as a real child process, with its log lines observable as events and real signals.</summary>
internal sealed class WorkerProcess : SampleProcessBase
{
    private WorkerProcess(Process process)
        : base(process)
    {
    }

    /// <summary>Starts the worker; returns at once (a worker has no server to wait for).</summary>
    public static Task<WorkerProcess> StartAsync(IEnumerable<string> arguments) =>
        StartProcessAsync(process => new WorkerProcess(process), "GracefulShutdown.WorkerSample", arguments, null, "http://127.0.0.1:0",
            waitUntilListening: false);
}

/// <summary>Real processes, real broker: one test at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BrokerCollection
{
    public const string Name = "Broker";
}
