namespace GracefulShutdown.Lifecycle;

/// <summary>
/// Silence as evidence (docs/traffic-wait.md): confidence bounds of a Poisson arrival rate from n arrivals in T seconds,
/// and how long a silence must last to show that a balancer no longer routes here.
/// </summary>
internal static class TrafficEvidence
{
    /// <summary>The confidence of the rate bounds: one-sided 95 %.</summary>
    public const double BoundConfidence = 0.95;

    // The standard normal quantile of BoundConfidence.
    private const double Z = 1.6448536269514722;

    /// <summary>The upper 95 % bound of the rate: <c>χ²(0.95; 2n + 2) / 2T</c>, exactly <c>−ln(0.05) / T</c> for n = 0.</summary>
    public static double UpperRate(long requests, double seconds)
    {
        if (seconds <= 0)
        {
            return double.PositiveInfinity;
        }

        return requests == 0
            ? -Math.Log(1 - BoundConfidence) / seconds
            : ChiSquareQuantile(2 * requests + 2, Z) / (2 * seconds);
    }

    /// <summary>The lower 95 % bound of the rate: <c>χ²(0.05; 2n) / 2T</c>, zero for n = 0.</summary>
    public static double LowerRate(long requests, double seconds)
    {
        if (requests == 0 || seconds <= 0)
        {
            return 0;
        }

        return ChiSquareQuantile(2 * requests, -Z) / (2 * seconds);
    }

    /// <summary>
    /// The silence that would happen with probability at most <c>1 − confidence</c> while requests still arrived at
    /// <paramref name="rate"/>: <c>−ln(1 − c) / λ</c>. Infinite for a zero rate.
    /// </summary>
    public static TimeSpan ConclusiveSilence(double rate, double confidence)
    {
        if (rate <= 0)
        {
            return TimeSpan.MaxValue;
        }

        double seconds = -Math.Log(1 - confidence) / rate;
        return seconds >= TimeSpan.MaxValue.TotalSeconds / 2 ? TimeSpan.MaxValue : TimeSpan.FromSeconds(seconds);
    }

    /// <summary>The chi-square quantile for <paramref name="k"/> degrees of freedom (Wilson–Hilferty; within 1 % for k ≥ 2).</summary>
    private static double ChiSquareQuantile(long k, double z)
    {
        double a = 2.0 / (9.0 * k);
        double b = Math.Max(0, 1 - a + z * Math.Sqrt(a));
        return k * b * b * b;
    }
}
