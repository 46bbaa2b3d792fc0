namespace GracefulShutdown.Kubernetes.Testing;

/// <summary>
/// Faults the stand-in injects into the requests it answers, settable at any time from any thread. They are checked
/// in this order: <see cref="Unreachable"/>, <see cref="Delay"/>, <see cref="StatusCode"/>, then (after
/// authentication and routing) <see cref="MalformedBodies"/>. <see cref="AppliesTo"/> narrows all of them to some calls.
/// They act on requests that arrive after the change: watches already streaming go on (end them with
/// <see cref="KubernetesApiStandIn.DropWatches"/> to model an outage of the server).
/// </summary>
public sealed class KubernetesFaults
{
    private readonly Lock _gate = new();
    private bool _unreachable;
    private TimeSpan _delay;
    private int? _statusCode;
    private bool _malformedBodies;
    private Func<KubernetesApiCall, bool>? _appliesTo;

    internal KubernetesFaults()
    {
    }

    /// <summary>Gets or sets a value indicating whether connections are closed without an answer (the client sees a reset or an empty reply).</summary>
    public bool Unreachable
    {
        get { lock (_gate) { return _unreachable; } }
        set { lock (_gate) { _unreachable = value; } }
    }

    /// <summary>Gets or sets how long the stand-in waits before answering (zero: no delay). A watch waits before its headers.</summary>
    public TimeSpan Delay
    {
        get { lock (_gate) { return _delay; } }
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            lock (_gate) { _delay = value; }
        }
    }

    /// <summary>
    /// Gets or sets a status code (400–599) to answer every request with, with the real server's Status JSON body
    /// (e.g. 401 Unauthorized, 403 Forbidden, 429 TooManyRequests, 500 InternalError, 503 ServiceUnavailable);
    /// <see langword="null"/> for none.
    /// </summary>
    public int? StatusCode
    {
        get { lock (_gate) { return _statusCode; } }
        set
        {
            if (value is < 400 or > 599)
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "StatusCode must be between 400 and 599, or null.");
            }

            lock (_gate) { _statusCode = value; }
        }
    }

    /// <summary>Gets or sets a value indicating whether successful answers are 200 with broken JSON (a watch sends one broken line and ends).</summary>
    public bool MalformedBodies
    {
        get { lock (_gate) { return _malformedBodies; } }
        set { lock (_gate) { _malformedBodies = value; } }
    }

    /// <summary>Gets or sets which calls the faults apply to (e.g. only watches of pods); <see langword="null"/> for all.</summary>
    public Func<KubernetesApiCall, bool>? AppliesTo
    {
        get { lock (_gate) { return _appliesTo; } }
        set { lock (_gate) { _appliesTo = value; } }
    }

    /// <summary>Clears every fault.</summary>
    public void Reset()
    {
        lock (_gate)
        {
            (_unreachable, _delay, _statusCode, _malformedBodies, _appliesTo) = (false, TimeSpan.Zero, null, false, null);
        }
    }

    internal FaultSnapshot For(KubernetesApiCall call)
    {
        lock (_gate)
        {
            if (_appliesTo is not null && !_appliesTo(call))
            {
                return default;
            }

            return new FaultSnapshot(_unreachable, _delay, _statusCode, _malformedBodies);
        }
    }

    internal readonly record struct FaultSnapshot(bool Unreachable, TimeSpan Delay, int? StatusCode, bool MalformedBodies);
}
