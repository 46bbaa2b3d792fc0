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

/// <summary>An instance as an application listing shows it: its status, or <see langword="null"/> when it is not listed.</summary>
internal sealed record EurekaListing(EurekaStatus? Status);

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
        if (NotJson(ref utf8) is (EurekaReadError error, string detail))
        {
            return Fail(error, detail);
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

    /// <summary>
    /// Reads <c>{"application":{"name":…,"instance":[…]}}</c> (<c>GET apps/{app}</c>; old servers send one instance as an object) and
    /// returns how it lists the instance with <paramref name="instanceId"/>, or that it does not list it.
    /// </summary>
    public static EurekaReadResult<EurekaListing> ReadListing(ReadOnlyMemory<byte> utf8, string instanceId)
    {
        if (NotJson(ref utf8) is (EurekaReadError error, string detail))
        {
            return EurekaReadResult<EurekaListing>.Fail(error, detail);
        }

        try
        {
            using JsonDocument document = JsonDocument.Parse(utf8, DocumentOptions);
            JsonElement root = document.RootElement;
            if (!TryGet(root, "application", out JsonElement application) || application.ValueKind != JsonValueKind.Object)
            {
                return EurekaReadResult<EurekaListing>.Fail(EurekaReadError.UnexpectedShape,
                    $"Expected an object with an \"application\" object; the JSON root is {Describe(root)}.");
            }

            if (!TryGet(application, "instance", out JsonElement instances))
            {
                return EurekaReadResult<EurekaListing>.Ok(new EurekaListing(null));
            }

            foreach (JsonElement instance in instances.ValueKind == JsonValueKind.Array ? instances.EnumerateArray() : Enumerable.Repeat(instances, 1))
            {
                if (LooksLikeInstance(instance) && string.Equals(GetString(instance, "instanceId"), instanceId, StringComparison.Ordinal))
                {
                    return EurekaReadResult<EurekaListing>.Ok(new EurekaListing(EurekaStatusNames.Parse(GetString(instance, "status"))));
                }
            }

            return EurekaReadResult<EurekaListing>.Ok(new EurekaListing(null));
        }
        catch (JsonException ex)
        {
            return EurekaReadResult<EurekaListing>.Fail(EurekaReadError.MalformedJson, $"The response body is not valid JSON: {ex.Message}");
        }
    }

    /// <summary>Skips a byte-order mark; returns why the body cannot be JSON (empty, XML), or <see langword="null"/>.</summary>
    private static (EurekaReadError Error, string Detail)? NotJson(ref ReadOnlyMemory<byte> utf8)
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
            return (EurekaReadError.Empty, "The response body is empty.");
        }

        return span[start] == (byte)'<'
            ? (EurekaReadError.Xml, "The response body is XML; this client reads only JSON (it sends Accept: application/json).")
            : null;
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
