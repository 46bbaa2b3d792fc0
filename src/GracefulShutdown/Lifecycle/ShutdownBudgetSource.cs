using GracefulShutdown.Diagnostics;
using Microsoft.Extensions.Options;

namespace GracefulShutdown.Lifecycle;

/// <summary>
/// Owns the budget in force. It is computed once from the options; every phase reads <see cref="Current"/> when it starts, not
/// when it is built, so a budget known only at run time (the pod's real deletion deadline, <see cref="ITerminationFacts"/>)
/// reaches every phase after it.
/// </summary>
/// <remarks>
/// With a platform deadline the budget is the configured one fitted (<see cref="ShutdownBudget.FitTo"/>) to the time from the
/// drain's start to that deadline — before the drain, to the time from now, which only the drain's start can shorten.
/// </remarks>
internal sealed class ShutdownBudgetSource
{
    private readonly IOptions<GracefulShutdownOptions> _options;
    private readonly PlatformTermination _platform;
    private readonly LifecycleState _state;
    private readonly TimeProvider _time;
    private readonly ShutdownObserver _observer;
    private readonly Lock _sync = new();
    private ShutdownBudget? _configured;
    private (DateTimeOffset KillAt, ShutdownBudget Budget)? _fitted;

    public ShutdownBudgetSource(IOptions<GracefulShutdownOptions> options, PlatformTermination platform, LifecycleState state, TimeProvider time,
        ShutdownObserver observer)
    {
        _options = options;
        _platform = platform;
        _state = state;
        _time = time;
        _observer = observer;
    }

    /// <summary>Gets the budget computed from the options.</summary>
    public ShutdownBudget Configured
    {
        get
        {
            ShutdownBudget? budget = Volatile.Read(ref _configured);
            if (budget is null)
            {
                budget = ShutdownBudget.From(_options.Value);
                budget = Interlocked.CompareExchange(ref _configured, budget, null) ?? budget;
            }

            return budget;
        }
    }

    public ShutdownBudget Current
    {
        get
        {
            ShutdownBudget configured = Configured;
            if (_platform.Deadline is not { } deadline)
            {
                return configured;
            }

            if (!_state.IsDraining)
            {
                return configured.FitTo(deadline.KillAt - _time.GetUtcNow());
            }

            lock (_sync)
            {
                // Once per deadline after the drain began: the phases that read it later get the same budget.
                if (_fitted is { } fitted && fitted.KillAt == deadline.KillAt)
                {
                    return fitted.Budget;
                }

                TimeSpan grace = deadline.KillAt - (_time.GetUtcNow() - _state.SinceDrainStarted);
                ShutdownBudget budget = configured.FitTo(grace);
                _fitted = (deadline.KillAt, budget);
                if (budget.IsFitted)
                {
                    _observer.BudgetFitted(budget, configured, deadline.Source);
                }
                else
                {
                    _observer.ConfiguredDeadlineRuled(configured, deadline.Source, grace);
                }

                return budget;
            }
        }
    }
}
