namespace GracefulShutdown.Eureka.Registration;

/// <summary>Capped exponential back-off between failed calls: 1 s, 2 s, 4 s … up to a cap.</summary>
internal static class RetryBackoff
{
    private static readonly TimeSpan First = TimeSpan.FromSeconds(1);

    /// <param name="failures">The failures in a row, the one just recorded included (1 or more).</param>
    /// <param name="cap">The longest delay.</param>
    public static TimeSpan Delay(int failures, TimeSpan cap)
    {
        double factor = Math.Pow(2, Math.Min(failures - 1, 20));
        return TimeSpan.FromTicks((long)Math.Min(First.Ticks * factor, cap.Ticks));
    }
}
