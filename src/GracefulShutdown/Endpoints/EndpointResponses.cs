using Microsoft.AspNetCore.Http;

namespace GracefulShutdown.Endpoints;

/// <summary>
/// What every library endpoint shares: GET/HEAD only for the probes and GET only for preStop, never cached, problem details
/// for errors.
/// </summary>
internal static class EndpointResponses
{
    public static readonly string[] GetAndHead = [HttpMethods.Get, HttpMethods.Head];

    public static bool IsGetOrHead(HttpContext context) =>
        HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method);

    public static void SetNoCache(IHeaderDictionary headers)
    {
        headers.CacheControl = "no-store, no-cache";
        headers.Pragma = "no-cache";
        headers.Expires = "Thu, 01 Jan 1970 00:00:00 GMT";
    }

    /// <summary>405 for the probes: they change nothing, so they answer GET and HEAD.</summary>
    public static Task MethodNotAllowedAsync(HttpContext context) =>
        MethodNotAllowedAsync(context, "GET, HEAD", "This endpoint answers GET and HEAD.");

    /// <summary>
    /// 405 for preStop: it begins the drain, so it answers GET only (kubelet's <c>httpGet</c> hook sends GET). HEAD is a safe
    /// method (RFC 9110) that monitors and link checkers send; it must change nothing.
    /// </summary>
    public static Task GetOnlyMethodNotAllowedAsync(HttpContext context) =>
        MethodNotAllowedAsync(context, "GET", "This endpoint answers GET only: it begins the drain, and other methods must change nothing.");

    private static Task MethodNotAllowedAsync(HttpContext context, string allow, string detail)
    {
        context.Response.Headers.Allow = allow;
        return ProblemAsync(context, StatusCodes.Status405MethodNotAllowed, "Method not allowed", detail);
    }

    public static Task ProblemAsync(HttpContext context, int statusCode, string title, string detail) =>
        TypedResults.Problem(detail, statusCode: statusCode, title: title).ExecuteAsync(context);

    public static Task WriteTextAsync(HttpContext context, string text) =>
        HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : context.Response.WriteAsync(text);
}
