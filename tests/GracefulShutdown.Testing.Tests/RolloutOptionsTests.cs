namespace GracefulShutdown.Testing.Tests;

public class RolloutOptionsTests
{
    [Fact]
    public void Defaults_are_those_the_documentation_names()
    {
        var options = new RolloutOptions();

        Assert.Equal(2, options.Replicas);
        Assert.Equal(1, options.Rounds);
        Assert.Equal(TimeSpan.FromSeconds(2), options.RemovalLag);
        Assert.Equal("/", options.Path);
        Assert.Equal(100, options.RequestsPerSecond);
        Assert.Null(options.ConfigureReplica);
        Assert.Equal(RolloutBalancer.RemovalLag, options.Balancer);
        Assert.Equal("/health/ready", options.ReadinessPath);
        Assert.Equal("/lifecycle/prestop", options.PreStopPath);
        Assert.Equal(TimeSpan.FromSeconds(30), options.TerminationGracePeriod);
        Assert.Same(TimeProvider.System, options.TimeProvider);
        options.Validate();
    }

    public static TheoryData<Action<RolloutOptions>, string> InvalidOptions => new()
    {
        { o => o.Replicas = 0, nameof(RolloutOptions.Replicas) },
        { o => o.Replicas = 11, nameof(RolloutOptions.Replicas) },
        { o => o.Rounds = 0, nameof(RolloutOptions.Rounds) },
        { o => o.RemovalLag = TimeSpan.FromSeconds(-1), nameof(RolloutOptions.RemovalLag) },
        { o => o.Path = "no-slash", nameof(RolloutOptions.Path) },
        { o => o.RequestsPerSecond = 0, nameof(RolloutOptions.RequestsPerSecond) },
        { o => o.RequestsPerSecond = double.NaN, nameof(RolloutOptions.RequestsPerSecond) },
        { o => o.HealthCheckThreshold = 0, nameof(RolloutOptions.HealthCheckThreshold) },
        { o => o.TerminationGracePeriod = TimeSpan.Zero, nameof(RolloutOptions.TerminationGracePeriod) },
        { o => o.PreStopPath = "prestop", nameof(RolloutOptions.PreStopPath) },
        { o => o.WebSocketClients = 1, nameof(RolloutOptions.WebSocketClients) },
        { o => o.Balancer = (RolloutBalancer)7, nameof(RolloutOptions.Balancer) },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public async Task An_invalid_option_fails_before_anything_starts_naming_it(Action<RolloutOptions> change, string name)
    {
        var options = new RolloutOptions();
        change(options);

        ArgumentException error = await Assert.ThrowsAsync<ArgumentException>(() => Rollout.RunAsync<RolloutOptionsTests>(options));

        Assert.Equal(name, error.ParamName);
        Assert.Contains($"RolloutOptions.{name}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Null_options_are_refused() =>
        await Assert.ThrowsAsync<ArgumentNullException>(() => Rollout.RunAsync<RolloutOptionsTests>(null!));
}
