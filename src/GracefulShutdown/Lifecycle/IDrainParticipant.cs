namespace GracefulShutdown.Lifecycle;

/// <summary>
/// A step that must end after the traffic wait and before the server stops: on a signal or preStop it runs before
/// ApplicationStopping, on the application's own <c>StopApplication()</c> inside the host's stop, the same way. Registered in
/// dependency injection; <see cref="ShutdownConductor"/> runs every participant once per drain, together, and their time
/// counts within <c>DrainTimeout</c>.
/// </summary>
internal interface IDrainParticipant
{
    /// <summary>Runs the step once the traffic wait is over.</summary>
    /// <param name="wait">How the traffic wait ended (a skipped wait means hurry).</param>
    /// <param name="deadline">Fires at <see cref="ShutdownBudget.CloseTimeout"/> after the step began: what is left must be given up.</param>
    Task RunAsync(TrafficWaitResult wait, CancellationToken deadline);
}
