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

    /// <summary>
    /// The arrivals the lower bound of the rate <em>now</em> is taken from (docs/traffic-wait.md, "The present"): the recent
    /// window before the drain and the wait until its last request together — unless the wait's requests are too few for the
    /// window's rate (their upper bound below the window's lower bound: the rate dropped at the drain, and a balancer still
    /// routes here at the lower rate), in which case the wait's alone. The window may never raise the rate the wait shows.
    /// </summary>
    public static RateBasis LowerRateBasis(TrafficObservation before, long requestsDuringWait, double secondsRouted)
    {
        bool dropped = requestsDuringWait > 0
            && UpperRate(requestsDuringWait, secondsRouted) < LowerRate(before.RecentRequests, before.RecentSeconds);
        return dropped
            ? new RateBasis(requestsDuringWait, secondsRouted)
            : new RateBasis(before.RecentRequests + requestsDuringWait, before.RecentSeconds + secondsRouted);
    }

    /// <summary>
    /// The upper bound of the rate <em>now</em> (docs/traffic-wait.md, "The present"): over the recent window before the drain
    /// and the whole wait so far — unless the wait's requests are too many for the window's rate (their lower bound above the
    /// window's upper bound: the rate rose), in which case over the wait's alone. The whole history since readiness may
    /// tighten it only while that present holds no request at all: then nothing contradicts the longer silence. Once a
    /// request arrived in the present, a long quiet history must not make a busy present look idle.
    /// </summary>
    public static double PresentUpperRate(TrafficObservation before, long requestsDuringWait, double secondsWaited)
    {
        long present = before.RecentRequests + requestsDuringWait;
        if (present == 0)
        {
            return Math.Min(
                UpperRate(0, before.RecentSeconds + secondsWaited),
                UpperRate(before.TotalRequests, before.TotalSeconds + secondsWaited));
        }

        bool rose = requestsDuringWait > 0
            && LowerRate(requestsDuringWait, secondsWaited) > UpperRate(before.RecentRequests, before.RecentSeconds);
        return rose
            ? UpperRate(requestsDuringWait, secondsWaited)
            : UpperRate(present, before.RecentSeconds + secondsWaited);
    }

    /// <summary>The chi-square quantile for <paramref name="k"/> degrees of freedom (Wilson–Hilferty; within 1 % for k ≥ 2).</summary>
    private static double ChiSquareQuantile(long k, double z)
    {
        double a = 2.0 / (9.0 * k);
        double b = Math.Max(0, 1 - a + z * Math.Sqrt(a));
        return k * b * b * b;
    }
}

/// <summary>The arrivals a rate bound was taken from: <paramref name="Requests"/> requests in <paramref name="Seconds"/> seconds.</summary>
internal readonly record struct RateBasis(long Requests, double Seconds)
{
    public double LowerRate => TrafficEvidence.LowerRate(Requests, Seconds);
}
