using Microsoft.Extensions.Options;

namespace GracefulShutdown.Lifecycle;

/// <summary>
/// Owns the budget in force. It is computed once from the options; every phase reads <see cref="Current"/> when it starts, not
/// when it is built, so a budget known only at run time (the pod's real deletion deadline) reaches every phase after it.
/// </summary>
internal sealed class ShutdownBudgetSource(IOptions<GracefulShutdownOptions> options)
{
    private ShutdownBudget? _current;

    public ShutdownBudget Current => Volatile.Read(ref _current) ?? Compute();

    private ShutdownBudget Compute()
    {
        var budget = ShutdownBudget.From(options.Value);
        return Interlocked.CompareExchange(ref _current, budget, null) ?? budget;
    }
}
