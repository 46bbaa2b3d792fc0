using Grpc.AspNetCore.HealthChecks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace GracefulShutdown.Grpc.Tests;

public sealed class AddGrpcTests
{
    [Fact]
    public void Lifecycle_names_are_taken_from_the_publisher_and_Check_answers_from_the_pushed_state()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddGracefulShutdown().AddGrpc();
        services.AddGrpcHealthChecks(o => o.Services.Map("greet.Greeter", static _ => true));
        using ServiceProvider provider = services.BuildServiceProvider();

        GrpcHealthChecksOptions options = provider.GetRequiredService<IOptions<GrpcHealthChecksOptions>>().Value;
        Assert.True(options.UseHealthChecksCache);
        Assert.DoesNotContain(options.Services, m => m.Name == "");
        Assert.DoesNotContain(options.Services, m => m.Name == "readiness");
        Assert.Contains(options.Services, m => m.Name == "greet.Greeter");
    }
}
