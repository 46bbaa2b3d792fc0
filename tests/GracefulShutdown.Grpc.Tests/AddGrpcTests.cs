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
        Assert.True(options.SuppressCompletionOnShutdown);
        Assert.DoesNotContain(options.Services, m => m.Name == "");
        Assert.DoesNotContain(options.Services, m => m.Name == "readiness");
        Assert.Contains(options.Services, m => m.Name == "greet.Greeter");
    }

    [Fact]
    public void AddGrpc_is_idempotent()
    {
        var services = new ServiceCollection();
        IGracefulShutdownBuilder builder = services.AddGracefulShutdown();

        builder.AddGrpc();
        int count = services.Count;
        builder.AddGrpc();

        Assert.Equal(count, services.Count);
    }

    [Fact]
    public void Streams_ending_on_the_traffic_wait_take_Watch_completion_over_from_ApplicationStopping()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddGracefulShutdown().AddGrpc();
        services.Configure<GrpcShutdownOptions>(o => o.EndStreamsWhenTrafficWaitEnds = false);
        using ServiceProvider provider = services.BuildServiceProvider();

        Assert.False(provider.GetRequiredService<IOptions<GrpcHealthChecksOptions>>().Value.SuppressCompletionOnShutdown);
    }
}
