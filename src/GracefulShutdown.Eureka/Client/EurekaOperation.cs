namespace GracefulShutdown.Eureka.Client;

/// <summary>The Eureka REST operations this client makes.</summary>
internal enum EurekaOperation
{
    Register,
    Heartbeat,
    StatusOverride,
    Deregister,
    GetInstance,
    GetApplication,
}

internal static class EurekaOperationNames
{
    /// <summary>The name in logs and in the <c>operation</c> tag of the metrics (a public contract: never rename).</summary>
    public static string ToName(this EurekaOperation operation) => operation switch
    {
        EurekaOperation.Register => "register",
        EurekaOperation.Heartbeat => "heartbeat",
        EurekaOperation.StatusOverride => "status_override",
        EurekaOperation.Deregister => "deregister",
        EurekaOperation.GetApplication => "get_application",
        _ => "get_instance",
    };
}
