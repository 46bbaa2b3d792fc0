using GracefulShutdown.Hosting;
using Microsoft.Extensions.Options;

namespace GracefulShutdown.Tests.Hosting;

public sealed class ConnectionOptionsValidationTests
{
    private readonly GracefulShutdownOptionsValidator _validator = new();

    [Fact]
    public void Defaults_Succeed_EvenWithAShortDrainTimeout()
    {
        Assert.True(_validator.Validate(null, new GracefulShutdownOptions()).Succeeded);
        Assert.True(_validator.Validate(null, new GracefulShutdownOptions { DrainTimeout = TimeSpan.FromSeconds(3) }).Succeeded);
    }

    [Fact]
    public void CloseTimeoutBeyondTheDrainDeadline_NamesTheKeysAndValues()
    {
        var options = new GracefulShutdownOptions { Connections = { CloseTimeout = TimeSpan.FromSeconds(9) } };

        ValidateOptionsResult result = _validator.Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("GracefulShutdown:Connections:CloseTimeout (00:00:09) must not exceed GracefulShutdown:DrainTimeout (00:00:10) " +
            "minus GracefulShutdown:DrainCancellationLead (00:00:02) = 00:00:08", result.FailureMessage);
    }

    [Fact]
    public void CloseWindowBeyondCloseTimeout_NamesBothKeysAndValues()
    {
        var options = new GracefulShutdownOptions { Connections = { CloseWindow = TimeSpan.FromSeconds(4), CloseTimeout = TimeSpan.FromSeconds(3) } };

        ValidateOptionsResult result = _validator.Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("GracefulShutdown:Connections:CloseWindow (00:00:04) must not exceed GracefulShutdown:Connections:CloseTimeout (00:00:03)", result.FailureMessage);
    }

    [Fact]
    public void NegativeWindowAndZeroTimeout_AreRejected()
    {
        var options = new GracefulShutdownOptions { Connections = { CloseWindow = TimeSpan.FromSeconds(-1), CloseTimeout = TimeSpan.Zero } };

        ValidateOptionsResult result = _validator.Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("GracefulShutdown:Connections:CloseWindow (-00:00:01) must not be negative", result.FailureMessage);
        Assert.Contains("GracefulShutdown:Connections:CloseTimeout (00:00:00) must be greater than zero", result.FailureMessage);
    }
}
