using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace GracefulShutdown.RabbitMQ.Tests;

/// <summary>The consumer's section, GracefulShutdown:RabbitMQ:&lt;name&gt;, inside the core's strictly bound GracefulShutdown section.</summary>
public sealed class RabbitMQGracefulShutdownBuilderExtensionsTests
{
    private const string Section = "GracefulShutdown:RabbitMQ:orders:";

    private static ServiceProvider Build(Dictionary<string, string?> configuration)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(configuration).Build());
        services.AddLogging();
        services.AddGracefulShutdown().AddRabbitMQConsumer("orders", static (_, _, _) => Task.CompletedTask);
        return services.BuildServiceProvider();
    }

    [Fact]
    public void ConsumerSection_BindsTheConsumer_AndTheCoreSectionStillBinds()
    {
        using ServiceProvider provider = Build(new()
        {
            [Section + "Url"] = "amqp://guest:guest@127.0.0.1:5672/",
            [Section + "Queue"] = "orders",
            [Section + "Prefetch"] = "25",
            ["GracefulShutdown:DrainTimeout"] = "00:00:07",
        });

        RabbitMQConsumerOptions options = provider.GetRequiredService<IOptionsMonitor<RabbitMQConsumerOptions>>().Get("orders");
        Assert.Equal(new Uri("amqp://guest:guest@127.0.0.1:5672/"), options.Url);
        Assert.Equal("orders", options.Queue);
        Assert.Equal(25, options.Prefetch);
        Assert.Equal(TimeSpan.FromSeconds(7), provider.GetRequiredService<IOptions<GracefulShutdownOptions>>().Value.DrainTimeout);
    }

    [Fact]
    public void BadValues_FailValidation_NamingKeyAndValue()
    {
        using ServiceProvider provider = Build(new()
        {
            [Section + "Url"] = "http://127.0.0.1/",
            [Section + "Prefetch"] = "0",
        });

        OptionsValidationException error = Assert.Throws<OptionsValidationException>(
            () => provider.GetRequiredService<IOptionsMonitor<RabbitMQConsumerOptions>>().Get("orders"));
        Assert.Contains("GracefulShutdown:RabbitMQ:orders:Url (http://127.0.0.1/) must be an absolute amqp:// or amqps:// URL.", error.Message,
            StringComparison.Ordinal);
        Assert.Contains("GracefulShutdown:RabbitMQ:orders:Queue is required.", error.Message, StringComparison.Ordinal);
        Assert.Contains("GracefulShutdown:RabbitMQ:orders:Prefetch (0) must be from 1 to 65535.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MisspeltConsumerName_FailsStartUp_NamingTheConsumersThereAre()
    {
        using ServiceProvider provider = Build(new() { ["GracefulShutdown:RabbitMQ:order:Queue"] = "orders" });

        InvalidOperationException error = Assert.Throws<InvalidOperationException>(
            () => provider.GetRequiredService<IOptions<GracefulShutdownOptions>>().Value);
        Assert.Contains("GracefulShutdown:RabbitMQ:order (a section); GracefulShutdown:RabbitMQ has orders", error.Message, StringComparison.Ordinal);
    }
}
