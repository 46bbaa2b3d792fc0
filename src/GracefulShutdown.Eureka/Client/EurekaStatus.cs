namespace GracefulShutdown.Eureka.Client;

/// <summary>An instance status as Eureka spells it on the wire.</summary>
internal enum EurekaStatus
{
    Unknown = 0,
    Starting = 1,
    Up = 2,
    OutOfService = 3,
    Down = 4,
}

internal static class EurekaStatusNames
{
    public static string ToWire(this EurekaStatus status) => status switch
    {
        EurekaStatus.Starting => "STARTING",
        EurekaStatus.Up => "UP",
        EurekaStatus.OutOfService => "OUT_OF_SERVICE",
        EurekaStatus.Down => "DOWN",
        _ => "UNKNOWN",
    };

    /// <summary>Parses a wire status, ignoring case; anything else is <see cref="EurekaStatus.Unknown"/>, as the Java client does.</summary>
    public static EurekaStatus Parse(string? value) => value?.Trim().ToUpperInvariant() switch
    {
        "STARTING" => EurekaStatus.Starting,
        "UP" => EurekaStatus.Up,
        "OUT_OF_SERVICE" => EurekaStatus.OutOfService,
        "DOWN" => EurekaStatus.Down,
        _ => EurekaStatus.Unknown,
    };
}
