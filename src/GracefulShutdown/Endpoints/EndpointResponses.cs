using Microsoft.AspNetCore.Http;

namespace GracefulShutdown.Endpoints;

/// <summary>What every library endpoint shares: GET/HEAD only, never cached, problem details for errors.</summary>
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

    public static Task MethodNotAllowedAsync(HttpContext context)
    {
        context.Response.Headers.Allow = "GET, HEAD";
        return ProblemAsync(context, StatusCodes.Status405MethodNotAllowed, "Method not allowed", "This endpoint answers GET and HEAD.");
    }

    public static Task ProblemAsync(HttpContext context, int statusCode, string title, string detail) =>
        TypedResults.Problem(detail, statusCode: statusCode, title: title).ExecuteAsync(context);

    public static Task WriteTextAsync(HttpContext context, string text) =>
        HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : context.Response.WriteAsync(text);
}
