using System.Text.Json;

namespace GracefulShutdown.Eureka.Client;

/// <summary>Why a response body could not be read.</summary>
internal enum EurekaReadError
{
    None = 0,

    /// <summary>The body is empty.</summary>
    Empty,

    /// <summary>The body is XML: the server ignored <c>Accept: application/json</c>. This client reads JSON only.</summary>
    Xml,

    /// <summary>The body is not valid JSON.</summary>
    MalformedJson,

    /// <summary>The body is JSON but not the expected root object.</summary>
    UnexpectedShape,
}

/// <summary>The outcome of reading a response body: a value, or why there is none.</summary>
internal readonly record struct EurekaReadResult<T>(T? Value, EurekaReadError Error, string? Detail)
    where T : class
{
    public bool Succeeded => Error == EurekaReadError.None && Value is not null;

    public static EurekaReadResult<T> Ok(T value) => new(value, EurekaReadError.None, null);

    public static EurekaReadResult<T> Fail(EurekaReadError error, string detail) => new(null, error, detail);
}

/// <summary>What the client reads of an instance: its status and the override that decides it.</summary>
internal sealed record EurekaInstanceStatus(EurekaStatus Status, EurekaStatus OverriddenStatus);

/// <summary>
/// Reads the statuses from <c>GET apps/{app}/{id}</c> as leniently as the Java server does (old servers' <c>overriddenstatus</c>,
/// explicit nulls, unknown fields). It never throws on content; it reports what was wrong instead.
/// </summary>
internal static class EurekaResponseReader
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip };

    /// <summary>Reads <c>{"instance":{…}}</c> (or a bare instance object).</summary>
    public static EurekaReadResult<EurekaInstanceStatus> ReadInstanceStatus(ReadOnlyMemory<byte> utf8)
    {
        ReadOnlySpan<byte> span = utf8.Span;
        if (span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            utf8 = utf8[3..];
            span = utf8.Span;
        }

        int start = 0;
        while (start < span.Length && span[start] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
        {
            start++;
        }

        if (start == span.Length)
        {
            return Fail(EurekaReadError.Empty, "The response body is empty.");
        }

        if (span[start] == (byte)'<')
        {
            return Fail(EurekaReadError.Xml, "The response body is XML; this client reads only JSON (it sends Accept: application/json).");
        }

        try
        {
            using JsonDocument document = JsonDocument.Parse(utf8, DocumentOptions);
            JsonElement root = document.RootElement;
            JsonElement instance = TryGet(root, "instance", out JsonElement inner) && inner.ValueKind == JsonValueKind.Object ? inner : root;
            if (LooksLikeInstance(instance))
            {
                EurekaStatus status = EurekaStatusNames.Parse(GetString(instance, "status"));
                EurekaStatus overridden = EurekaStatusNames.Parse(GetString(instance, "overriddenStatus") ?? GetString(instance, "overriddenstatus"));
                return EurekaReadResult<EurekaInstanceStatus>.Ok(new EurekaInstanceStatus(status, overridden));
            }

            return Fail(EurekaReadError.UnexpectedShape, $"Expected an object with an \"instance\" object; the JSON root is {Describe(root)}.");
        }
        catch (JsonException ex)
        {
            return Fail(EurekaReadError.MalformedJson, $"The response body is not valid JSON: {ex.Message}");
        }
    }

    private static EurekaReadResult<EurekaInstanceStatus> Fail(EurekaReadError error, string detail) =>
        EurekaReadResult<EurekaInstanceStatus>.Fail(error, detail);

    private static string Describe(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return root.ValueKind.ToString();
        }

        string[] names = root.EnumerateObject().Select(static p => p.Name).Take(5).ToArray();
        return names.Length == 0 ? "an empty object" : "an object with " + string.Join(", ", names.Select(static n => $"\"{n}\""));
    }

    private static bool LooksLikeInstance(JsonElement element) =>
        element.ValueKind == JsonValueKind.Object &&
        (TryGet(element, "instanceId", out _) || TryGet(element, "hostName", out _) || TryGet(element, "app", out _));

    private static bool TryGet(JsonElement e, string name, out JsonElement value)
    {
        if (e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null)
        {
            return true;
        }

        value = default;
        return false;
    }

    private static string? GetString(JsonElement e, string name) =>
        TryGet(e, name, out JsonElement v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
