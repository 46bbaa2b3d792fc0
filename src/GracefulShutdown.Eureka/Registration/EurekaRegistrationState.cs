namespace GracefulShutdown.Eureka.Registration;

/// <summary>The registration as the client last confirmed it with a server.</summary>
internal enum EurekaRegistration
{
    Off = 0,
    NotRegistered = 1,
    Starting = 2,
    Up = 3,
    OutOfService = 4,
    Deregistered = 5,
}

/// <summary>Shared, thread-safe view of the registration for the health check and the metrics. Only the client loop writes it.</summary>
internal sealed class EurekaRegistrationState(IGracefulShutdownReport? report = null)
{
    private int _registration = (int)EurekaRegistration.NotRegistered;
    private int _consecutiveFailures;
    private string? _lastError;

    public EurekaRegistration Registration => (EurekaRegistration)Volatile.Read(ref _registration);

    public int ConsecutiveFailures => Volatile.Read(ref _consecutiveFailures);

    public string? LastError => Volatile.Read(ref _lastError);

    public void Set(EurekaRegistration registration)
    {
        if (Interlocked.Exchange(ref _registration, (int)registration) != (int)registration)
        {
            // Steps after the drain began (out of service, deregistered) appear in the shutdown report.
            report?.Add("eureka", registration switch
            {
                EurekaRegistration.OutOfService => "out of service (OUT_OF_SERVICE override confirmed)",
                EurekaRegistration.Deregistered => "deregistered (DELETE confirmed)",
                _ => registration.ToString(),
            });
        }
    }

    /// <summary>Records a failed call; returns the number of failures in a row.</summary>
    public int RecordFailure(string? error)
    {
        Volatile.Write(ref _lastError, error);
        return Interlocked.Increment(ref _consecutiveFailures);
    }

    /// <summary>Records a successful call; returns the number of failures in a row before it.</summary>
    public int RecordSuccess()
    {
        Volatile.Write(ref _lastError, null);
        return Interlocked.Exchange(ref _consecutiveFailures, 0);
    }
}
