using System.Globalization;
using System.Net;
using System.Text;

namespace GracefulShutdown.Lifecycle;

/// <summary>
/// Who sent requests after the drain began: a bounded table of the first <see cref="Capacity"/> remote addresses with their
/// request counts and last arrival; the rest are summed. It names the balancer or ingress that is slow to stop routing here.
/// </summary>
internal sealed class LateCallers
{
    public const int Capacity = 8;

    private readonly Lock _sync = new();
    private readonly IPAddress?[] _addresses = new IPAddress?[Capacity];
    private readonly long[] _counts = new long[Capacity];
    private readonly long[] _last = new long[Capacity];
    private int _used;
    private long _otherCount;
    private long _otherLast;

    /// <remarks>Called per request while draining: no allocation (addresses are compared as the server gives them).</remarks>
    public void Record(IPAddress? address, long timestamp)
    {
        lock (_sync)
        {
            for (int i = 0; i < _used; i++)
            {
                if (Equals(_addresses[i], address))
                {
                    _counts[i]++;
                    _last[i] = Math.Max(_last[i], timestamp);
                    return;
                }
            }

            if (_used < Capacity)
            {
                _addresses[_used] = address;
                _counts[_used] = 1;
                _last[_used] = timestamp;
                _used++;
                return;
            }

            _otherCount++;
            _otherLast = Math.Max(_otherLast, timestamp);
        }
    }

    /// <summary>Returns each caller with its count and its last arrival as an offset from <paramref name="since"/>, busiest first.</summary>
    public IReadOnlyList<LateCaller> Snapshot(long since, TimeProvider time)
    {
        lock (_sync)
        {
            var callers = new List<LateCaller>(_used + 1);
            for (int i = 0; i < _used; i++)
            {
                IPAddress? address = _addresses[i];
                if (address is not null && address.IsIPv4MappedToIPv6)
                {
                    address = address.MapToIPv4();
                }

                callers.Add(new LateCaller(address?.ToString() ?? "unknown", _counts[i], time.GetElapsedTime(since, _last[i])));
            }

            callers.Sort(static (a, b) => b.Requests.CompareTo(a.Requests));
            if (_otherCount > 0)
            {
                callers.Add(new LateCaller("others", _otherCount, time.GetElapsedTime(since, _otherLast)));
            }

            return callers;
        }
    }

    /// <summary>Formats callers as <c>10.1.4.7: 312 requests, last at +7.900 s; …</c>.</summary>
    public static string Describe(IReadOnlyList<LateCaller> callers)
    {
        if (callers.Count == 0)
        {
            return "none";
        }

        var text = new StringBuilder();
        foreach (LateCaller caller in callers)
        {
            if (text.Length > 0)
            {
                text.Append("; ");
            }

            text.Append(CultureInfo.InvariantCulture, $"{caller.Address}: {caller.Requests} requests, last at +{caller.LastArrival.TotalSeconds:0.000} s");
        }

        return text.ToString();
    }
}

/// <summary>One remote address that sent requests after the drain began.</summary>
internal readonly record struct LateCaller(string Address, long Requests, TimeSpan LastArrival);
