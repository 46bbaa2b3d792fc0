namespace GracefulShutdown.Tests.Lifecycle;

/// <summary>
/// <see cref="ShutdownBudget.FitTo"/>: a platform deadline shorter than the configured grace period takes time from the traffic
/// wait first, then the stop work down to the exit reserve, then the close window, then the server drain, then the rest of the
/// stop work; the exit reserve stays.
/// </summary>
public sealed class ShutdownBudgetFitTests
{
    // The defaults: grace 30 s, wait ≤ 15 s, drain 10 s (close window 8 s, lead 2 s), stop margin 3 s, exit reserve 1 s.
    private static ShutdownBudget Defaults() => ShutdownBudget.From(new GracefulShutdownOptions());

    [Fact]
    public void EightSeconds_TheWaitGoes_TheStopWorkKeepsTheExitReserve_TheCloseWindowShrinks_TheServerDrainStays()
    {
        ShutdownBudget fitted = Defaults().FitTo(TimeSpan.FromSeconds(8));

        Assert.True(fitted.IsFitted);
        Assert.Equal(TimeSpan.FromSeconds(8), fitted.TerminationGracePeriod);
        Assert.Equal(TimeSpan.Zero, fitted.TrafficWaitMaximum);
        Assert.Equal(TimeSpan.FromSeconds(1), fitted.StopMargin);
        Assert.Equal(TimeSpan.FromSeconds(4), fitted.CloseTimeout);
        Assert.Equal(TimeSpan.FromSeconds(6), fitted.DrainTimeout);
        Assert.Equal(TimeSpan.FromSeconds(1), fitted.ExitReserve);
        Assert.Equal(TimeSpan.FromSeconds(7), fitted.StopDeadline); // exits 1 s before the deadline

        // A 3 s request in flight: with no long-lived connection to close the server drain has all 6 s, and the drain
        // deadline token fires 2 s before its end, after the request is done.
        Assert.Equal(TimeSpan.FromSeconds(4), fitted.DrainDeadline(fitted.ServerDrainTime(TimeSpan.Zero)));
    }

    [Fact]
    public void TwentySeconds_OnlyTheWaitShrinks()
    {
        ShutdownBudget fitted = Defaults().FitTo(TimeSpan.FromSeconds(20));

        Assert.Equal(TimeSpan.FromSeconds(6), fitted.TrafficWaitMaximum); // 20 − 1 exit − 10 drain − 3 stop
        Assert.Equal(TimeSpan.FromSeconds(10), fitted.DrainTimeout);
        Assert.Equal(TimeSpan.FromSeconds(8), fitted.CloseTimeout);
        Assert.Equal(TimeSpan.FromSeconds(3), fitted.StopMargin);
        Assert.Equal(TimeSpan.FromSeconds(19), fitted.StopDeadline);
    }

    [Fact]
    public void ThirteenSeconds_TheWaitGoes_ThenTheStopWorkGivesOneSecond()
    {
        ShutdownBudget fitted = Defaults().FitTo(TimeSpan.FromSeconds(13));

        Assert.Equal(TimeSpan.Zero, fitted.TrafficWaitMaximum);
        Assert.Equal(TimeSpan.FromSeconds(2), fitted.StopMargin);
        Assert.Equal(TimeSpan.FromSeconds(10), fitted.DrainTimeout);
    }

    [Fact]
    public void ThreeSeconds_TheCloseWindowGoes_ThenTheServerDrainShrinks()
    {
        ShutdownBudget fitted = Defaults().FitTo(TimeSpan.FromSeconds(3));

        Assert.Equal(TimeSpan.Zero, fitted.TrafficWaitMaximum);
        Assert.Equal(TimeSpan.Zero, fitted.CloseTimeout);
        Assert.Equal(TimeSpan.FromSeconds(1), fitted.DrainTimeout);
        Assert.Equal(TimeSpan.FromSeconds(1), fitted.StopMargin);
        Assert.Equal(TimeSpan.FromSeconds(2), fitted.StopDeadline);
    }

    [Fact]
    public void OneAndAHalfSeconds_TheStopWorkGivesTheRest()
    {
        ShutdownBudget fitted = Defaults().FitTo(TimeSpan.FromSeconds(1.5));

        Assert.Equal(TimeSpan.Zero, fitted.DrainTimeout);
        Assert.Equal(TimeSpan.FromSeconds(0.5), fitted.StopMargin);
        Assert.Equal(TimeSpan.FromSeconds(0.5), fitted.StopDeadline);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void DeadlineAlreadyPast_EveryPhaseGetsNothing(int seconds)
    {
        ShutdownBudget fitted = Defaults().FitTo(TimeSpan.FromSeconds(seconds));

        Assert.Equal(TimeSpan.Zero, fitted.TerminationGracePeriod);
        Assert.Equal(TimeSpan.Zero, fitted.TrafficWaitMaximum);
        Assert.Equal(TimeSpan.Zero, fitted.DrainTimeout);
        Assert.Equal(TimeSpan.Zero, fitted.StopMargin);
        Assert.Equal(TimeSpan.Zero, fitted.StopDeadline);
        Assert.Equal(TimeSpan.Zero, fitted.HostStopTimeout(TimeSpan.Zero, TimeSpan.Zero));
    }

    [Theory]
    [InlineData(30)]
    [InlineData(45)]
    public void NotShorterThanConfigured_Unchanged(int seconds)
    {
        ShutdownBudget configured = Defaults();

        Assert.Same(configured, configured.FitTo(TimeSpan.FromSeconds(seconds)));
        Assert.False(configured.IsFitted);
    }

    [Fact]
    public void ShorterThanConfiguredButThePhasesFit_OnlyTheGracePeriodChanges()
    {
        ShutdownBudget configured = ShutdownBudget.From(new GracefulShutdownOptions { TerminationGracePeriod = TimeSpan.FromSeconds(60) });

        ShutdownBudget fitted = configured.FitTo(TimeSpan.FromSeconds(45));

        Assert.Equal(TimeSpan.FromSeconds(45), fitted.TerminationGracePeriod);
        Assert.Equal(configured.TrafficWaitMaximum, fitted.TrafficWaitMaximum);
        Assert.Equal(configured.DrainTimeout, fitted.DrainTimeout);
        Assert.Equal(configured.CloseTimeout, fitted.CloseTimeout);
        Assert.Equal(configured.StopMargin, fitted.StopMargin);
        Assert.Equal(configured.StopDeadline, fitted.StopDeadline);
    }
}
