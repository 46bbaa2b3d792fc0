using System.Text;

namespace GracefulShutdown.Eureka.Tests.Client;

public class EurekaHttpClientTests
{
    [Fact]
    public async Task Send_ServiceUrlWithCredentials_SendsBasicAuth_AndNeverShowsThem()
    {
        using var h = new EurekaHarness(client: o => o.ServiceUrl = "http://user:p%40ss@eureka:8761/eureka");
        h.Initialized();

        await h.StepAsync();

        RecordedRequest request = Assert.Single(h.Handler.Requests);
        Assert.Equal("http://eureka:8761/eureka/apps/ORDERS", request.Uri.GetLeftPart(UriPartial.Path));
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("user:p@ss")), request.Authorization);
        Assert.Equal(["http://eureka:8761/eureka/"], h.Client.Servers);
        Assert.DoesNotContain(h.Logs.GetSnapshot(), r => r.Message.Contains("p@ss", StringComparison.Ordinal) || r.Message.Contains("user:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Send_400_IsRejected_WithoutFailOver()
    {
        using var h = new EurekaHarness();
        h.Handler.Respond = (_, _) => Task.FromResult(FakeEurekaHandler.Status(System.Net.HttpStatusCode.BadRequest, "Missing instanceId"));
        h.Initialized();

        await h.StepAsync();

        Assert.Single(h.Handler.Requests);
        FakeLogRecordAssert.Contains(h.LogsWithId(204), "Missing instanceId");
    }
}
