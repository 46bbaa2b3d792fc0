namespace GracefulShutdown.Sample;

/// <summary>
/// Stop work that runs until the host's stop token fires, like an SDK client flushing with the token it is given
/// (<c>Sample:TokenBoundStopWork=true</c>). With the library the token fires within the budget measured from the drain's start,
/// so the process exits inside the termination grace period whatever the traffic wait took.
/// </summary>
internal sealed class TokenBoundStopWork(ILogger<TokenBoundStopWork> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        logger.LogInformation("Stop work: running until the host's stop token fires");
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            logger.LogInformation("Stop work: the host's stop token fired");
        }
    }
}
