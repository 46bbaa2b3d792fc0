using System.Net.Http.Headers;
using System.Text;

namespace GracefulShutdown.Eureka.Client;

/// <summary>One server: its base URI with a trailing slash and without user info, which becomes a Basic authorization header.</summary>
internal sealed class EurekaServer
{
    public EurekaServer(Uri uri)
    {
        var builder = new UriBuilder(uri) { UserName = string.Empty, Password = string.Empty };
        if (!builder.Path.EndsWith('/'))
        {
            builder.Path += "/";
        }

        BaseUri = builder.Uri;
        Display = BaseUri.GetLeftPart(UriPartial.Path);
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            string credentials = Uri.UnescapeDataString(uri.UserInfo);
            Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        }
    }

    public Uri BaseUri { get; }

    /// <summary>Gets the URL without credentials, for logs.</summary>
    public string Display { get; }

    public AuthenticationHeaderValue? Authorization { get; }

    /// <summary>Splits <c>eureka:client:serviceUrl</c>; invalid entries are left out (the options validator reports them).</summary>
    public static EurekaServer[] Parse(string? serviceUrl)
    {
        var servers = new List<EurekaServer>();
        foreach (string part in (serviceUrl ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (Uri.TryCreate(part, UriKind.Absolute, out Uri? uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
            {
                servers.Add(new EurekaServer(uri));
            }
        }

        return [.. servers];
    }
}
