namespace GracefulShutdown.Tests.Lifecycle;

/// <summary>
/// <see cref="ShutdownBudget.FitTo"/>: a platform deadline shorter than the configured grace period takes time from the traffic
/// wait first, down to the drain's length; then from the stop work down to the exit reserve; then from the wait and the drain
/// in equal parts (the close window before the server drain's own part); then from the rest of the stop work. The exit
/// reserve stays.
/// </summary>
public sealed class ShutdownBudgetFitTests
{
    // The defaults: grace 30 s, wait ≤ 15 s, drain 10 s (close window 8 s, lead 2 s), stop margin 3 s, exit reserve 1 s.
    private static ShutdownBudget Defaults() => ShutdownBudget.From(new GracefulShutdownOptions());

    [Fact]
    public void EightSeconds_WaitAndDrainThreeEach_TheStopWorkKeepsTheExitReserve()
    {
        ShutdownBudget fitted = Defaults().FitTo(TimeSpan.FromSeconds(8));

        Assert.True(fitted.IsFitted);
        Assert.Equal(TimeSpan.FromSeconds(8), fitted.TerminationGracePeriod);
        Assert.Equal(TimeSpan.FromSeconds(3), fitted.TrafficWaitMaximum);
        Assert.Equal(TimeSpan.FromSeconds(3), fitted.DrainTimeout);
        Assert.Equal(TimeSpan.FromSeconds(1), fitted.CloseTimeout); // the close window gave up 7 s, the server drain's 2 s stay
        Assert.Equal(TimeSpan.FromSeconds(1), fitted.StopMargin);
        Assert.Equal(TimeSpan.FromSeconds(1), fitted.ExitReserve);
        Assert.Equal(TimeSpan.FromSeconds(7), fitted.StopDeadline); // exits 1 s before the deadline

        // A 3 s request in flight at the drain's start is served during the wait (the server keeps serving); one in flight
        // when the wait ends has the whole drain when no long-lived connection is open.
        Assert.Equal(TimeSpan.FromSeconds(3), fitted.ServerDrainTime(TimeSpan.Zero));
    }

    [Fact]
    public void TwentySeconds_TheWaitDownToTheDrain_ThenTheStopWork_ThenBothEqually()
    {
        ShutdownBudget fitted = Defaults().FitTo(TimeSpan.FromSeconds(20));

        // 19 s of room for 28 s: the wait gives 5 s (to 10 s), the stop work 2 s (to 1 s), then wait and drain 1 s each.
        Assert.Equal(TimeSpan.FromSeconds(9), fitted.TrafficWaitMaximum);
        Assert.Equal(TimeSpan.FromSeconds(9), fitted.DrainTimeout);
        Assert.Equal(TimeSpan.FromSeconds(7), fitted.CloseTimeout);
        Assert.Equal(TimeSpan.FromSeconds(1), fitted.StopMargin);
        Assert.Equal(TimeSpan.FromSeconds(19), fitted.StopDeadline);
    }

    [Fact]
    public void TwentyFourSeconds_OnlyTheWaitShrinks()
    {
        ShutdownBudget fitted = Defaults().FitTo(TimeSpan.FromSeconds(24));

        Assert.Equal(TimeSpan.FromSeconds(10), fitted.TrafficWaitMaximum); // 24 − 1 exit − 10 drain − 3 stop
        Assert.Equal(TimeSpan.FromSeconds(10), fitted.DrainTimeout);
        Assert.Equal(TimeSpan.FromSeconds(3), fitted.StopMargin);
    }

    [Fact]
    public void ThreeSeconds_HalfASecondEach_TheCloseWindowGoneFirst()
    {
        ShutdownBudget fitted = Defaults().FitTo(TimeSpan.FromSeconds(3));

        Assert.Equal(TimeSpan.FromSeconds(0.5), fitted.TrafficWaitMaximum);
        Assert.Equal(TimeSpan.Zero, fitted.CloseTimeout);
        Assert.Equal(TimeSpan.FromSeconds(0.5), fitted.DrainTimeout);
        Assert.Equal(TimeSpan.FromSeconds(1), fitted.StopMargin);
        Assert.Equal(TimeSpan.FromSeconds(2), fitted.StopDeadline);
    }

    [Fact]
    public void OneAndAHalfSeconds_TheStopWorkGivesTheRest()
    {
        ShutdownBudget fitted = Defaults().FitTo(TimeSpan.FromSeconds(1.5));

        Assert.Equal(TimeSpan.Zero, fitted.TrafficWaitMaximum);
        Assert.Equal(TimeSpan.Zero, fitted.DrainTimeout);
        Assert.Equal(TimeSpan.FromSeconds(0.5), fitted.StopMargin);
        Assert.Equal(TimeSpan.FromSeconds(0.5), fitted.StopDeadline);
    }

    [Fact]
    public void WaitShorterThanTheDrain_NothingInStepOne_ThenEqualParts()
    {
        ShutdownBudget configured = ShutdownBudget.From(new GracefulShutdownOptions
        {
            TrafficWait = { Minimum = TimeSpan.FromSeconds(1), Maximum = TimeSpan.FromSeconds(2) },
            DrainTimeout = TimeSpan.FromSeconds(20),
        });

        // 25 s planned, 10 s of room: the stop work gives 2 s, then 13 s in equal parts — the wait has only 2 s, the drain the rest.
        ShutdownBudget fitted = configured.FitTo(TimeSpan.FromSeconds(11));

        Assert.Equal(TimeSpan.Zero, fitted.TrafficWaitMaximum);
        Assert.Equal(TimeSpan.FromSeconds(9), fitted.DrainTimeout);
        Assert.Equal(TimeSpan.FromSeconds(1), fitted.StopMargin);
    }

    // What the wait and the drain give up in equal parts is an odd number of ticks: 29 s − grace (ticks ≡ 3 mod 4 round the
    // other way than ≡ 1 mod 4 in TimeSpan division).
    [Theory]
    [InlineData(89_999_997)]
    [InlineData(89_999_999)]
    [InlineData(39_999_993)]
    public void OddTicks_TheWaitNeverEndsLongerThanTheDrain(long ticks)
    {
        ShutdownBudget fitted = Defaults().FitTo(TimeSpan.FromTicks(ticks));

        Assert.True(fitted.TrafficWaitMaximum <= fitted.DrainTimeout, $"wait {fitted.TrafficWaitMaximum}, drain {fitted.DrainTimeout}");
        Assert.Equal(fitted.TerminationGracePeriod - fitted.ExitReserve, fitted.StopDeadline);
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
