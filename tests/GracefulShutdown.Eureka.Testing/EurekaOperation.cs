namespace GracefulShutdown.Eureka.Testing;

/// <summary>The Eureka REST operation a request was routed to.</summary>
public enum EurekaOperation
{
    /// <summary>The path or method matched no Eureka resource (answered 404 or 405).</summary>
    Unknown = 0,

    /// <summary><c>POST apps/{APP}</c>.</summary>
    Register,

    /// <summary><c>PUT apps/{APP}/{id}</c>.</summary>
    Heartbeat,

    /// <summary><c>DELETE apps/{APP}/{id}</c>.</summary>
    Cancel,

    /// <summary><c>PUT apps/{APP}/{id}/status?value=X</c>.</summary>
    StatusOverride,

    /// <summary><c>DELETE apps/{APP}/{id}/status</c>.</summary>
    DeleteStatusOverride,

    /// <summary><c>PUT apps/{APP}/{id}/metadata?k=v</c>.</summary>
    MetadataUpdate,

    /// <summary><c>GET apps</c> (full registry).</summary>
    GetApplications,

    /// <summary><c>GET apps/delta</c>.</summary>
    GetDelta,

    /// <summary><c>GET apps/{APP}</c>.</summary>
    GetApplication,

    /// <summary><c>GET apps/{APP}/{id}</c>.</summary>
    GetInstance,

    /// <summary><c>GET instances/{id}</c>.</summary>
    GetInstanceById,

    /// <summary><c>GET vips/{vip}</c>.</summary>
    GetVip,

    /// <summary><c>GET svips/{svip}</c>.</summary>
    GetSecureVip,
}
