using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace GracefulShutdown.Eureka.Configuration;

/// <summary>Fills what <see cref="EurekaInstanceOptions"/> leaves unset from the host: name, addresses and the server's ports.</summary>
internal static class EurekaInstanceResolver
{
    /// <param name="options">The bound instance options.</param>
    /// <param name="applicationName">The host's <c>IHostEnvironment.ApplicationName</c>.</param>
    /// <param name="readinessPath">The library's readiness path, the default health check URL.</param>
    /// <param name="serverAddresses">The server's addresses (<c>IServerAddressesFeature</c>), read after it started.</param>
    public static EurekaInstanceIdentity Resolve(EurekaInstanceOptions options, string applicationName, string readinessPath,
        IEnumerable<string> serverAddresses)
    {
        string appName = string.IsNullOrWhiteSpace(options.AppName) ? applicationName : options.AppName.Trim();
        string host = string.IsNullOrWhiteSpace(options.HostName) ? MachineHostName() : options.HostName.Trim();
        string ip = string.IsNullOrWhiteSpace(options.IpAddress) ? FirstIPv4Address() : options.IpAddress.Trim();

        (int? httpPort, int? httpsPort) = PortsFrom(serverAddresses);
        int securePort = options.SecurePort > 0 ? options.SecurePort : httpsPort ?? 443;
        bool securePortEnabled = options.SecurePort > 0 || httpsPort is not null;
        int port = options.Port > 0 ? options.Port : httpPort ?? (securePortEnabled ? securePort : 80);

        // With only an https address, plain http is off and callers must use the secure port.
        bool portEnabled = options.Port > 0 || httpPort is not null || !securePortEnabled;

        string urlHost = options.PreferIpAddress ? ip : host;
        if (urlHost.Contains(':', StringComparison.Ordinal) && !urlHost.StartsWith('['))
        {
            urlHost = $"[{urlHost}]";
        }

        string homePage = portEnabled ? $"http://{urlHost}:{port}/" : $"https://{urlHost}:{securePort}/";
        string healthPath = string.IsNullOrWhiteSpace(options.HealthCheckUrlPath) ? readinessPath : options.HealthCheckUrlPath;

        return new EurekaInstanceIdentity
        {
            AppName = appName.ToUpperInvariant(),
            InstanceId = string.IsNullOrWhiteSpace(options.InstanceId) ? $"{host}:{appName}:{port}" : options.InstanceId.Trim(),
            HostName = host,
            IpAddress = ip,
            Port = port,
            PortEnabled = portEnabled,
            SecurePort = securePort,
            SecurePortEnabled = securePortEnabled,
            VipAddress = string.IsNullOrWhiteSpace(options.VipAddress) ? appName : options.VipAddress.Trim(),
            SecureVipAddress = string.IsNullOrWhiteSpace(options.SecureVipAddress) ? appName : options.SecureVipAddress.Trim(),
            HomePageUrl = homePage,
            StatusPageUrl = Combine(homePage, options.StatusPageUrlPath),
            HealthCheckUrl = Combine(homePage, healthPath),
            SecureHealthCheckUrl = securePortEnabled ? $"https://{urlHost}:{securePort}{healthPath}" : null,
            LeaseRenewalIntervalInSeconds = options.LeaseRenewalIntervalInSeconds,
            LeaseExpirationDurationInSeconds = options.LeaseExpirationDurationInSeconds,
            Metadata = new Dictionary<string, string>(options.MetadataMap, StringComparer.Ordinal),
        };
    }

    /// <summary>The ports of the first http and the first https server address (wildcards such as <c>http://+:8080</c> included).</summary>
    public static (int? Http, int? Https) PortsFrom(IEnumerable<string> addresses)
    {
        int? http = null;
        int? https = null;
        foreach (string address in addresses)
        {
            if (ServerAddress.TryParse(address) is not { } binding)
            {
                continue;
            }

            if (string.Equals(binding.Scheme, "https", StringComparison.OrdinalIgnoreCase))
            {
                https ??= binding.Port;
            }
            else if (string.Equals(binding.Scheme, "http", StringComparison.OrdinalIgnoreCase))
            {
                http ??= binding.Port;
            }
        }

        return (http, https);
    }

    private static string Combine(string homePage, string path) => homePage.TrimEnd('/') + (path.StartsWith('/') ? path : "/" + path);

    private static string MachineHostName()
    {
        try
        {
            string name = Dns.GetHostName();
            if (!string.IsNullOrWhiteSpace(name))
            {
                return name;
            }
        }
        catch (SocketException)
        {
            // No resolver: the machine name is the next best thing.
        }

        return Environment.MachineName;
    }

    private static string FirstIPv4Address()
    {
        try
        {
            foreach (NetworkInterface nic in NetworkInterface.GetAllNetworkInterfaces())
            {
                if (nic.OperationalStatus != OperationalStatus.Up || nic.NetworkInterfaceType == NetworkInterfaceType.Loopback)
                {
                    continue;
                }

                foreach (UnicastIPAddressInformation unicast in nic.GetIPProperties().UnicastAddresses)
                {
                    if (unicast.Address.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(unicast.Address))
                    {
                        return unicast.Address.ToString();
                    }
                }
            }
        }
        catch (NetworkInformationException)
        {
            // Interfaces cannot be listed (restricted sandbox): fall back to loopback.
        }

        return IPAddress.Loopback.ToString();
    }
}
