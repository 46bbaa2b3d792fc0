using Microsoft.AspNetCore.Http;

namespace GracefulShutdown.Hosting;

/// <summary>Reads the server's listening addresses (<c>IServerAddressesFeature</c>), wildcards such as <c>http://+:8080</c> included.</summary>
internal static class ServerAddress
{
    /// <summary>Returns the parsed TCP address, or <see langword="null"/> for a pipe or an address that does not parse.</summary>
    public static BindingAddress? TryParse(string address)
    {
        try
        {
            BindingAddress binding = BindingAddress.Parse(address);
            return binding.IsUnixPipe || binding.IsNamedPipe || binding.Port <= 0 ? null : binding;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
