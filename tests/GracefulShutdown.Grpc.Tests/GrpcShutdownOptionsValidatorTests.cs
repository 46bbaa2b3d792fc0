using GracefulShutdown.Grpc.Hosting;
using Microsoft.Extensions.Options;

namespace GracefulShutdown.Grpc.Tests;

public sealed class GrpcShutdownOptionsValidatorTests
{
    [Fact]
    public void Defaults_are_valid() => Assert.True(new GrpcShutdownOptionsValidator().Validate(null, new GrpcShutdownOptions()).Succeeded);

    [Theory]
    [InlineData("", "GracefulShutdown:Grpc:ReadinessService ('')")]
    [InlineData(" ready", "GracefulShutdown:Grpc:ReadinessService (' ready')")]
    [InlineData("liveness", "GracefulShutdown:Grpc:ReadinessService and GracefulShutdown:Grpc:LivenessService are both 'liveness'")]
    public void Bad_readiness_names_are_named_with_their_value(string name, string expected)
    {
        ValidateOptionsResult result = new GrpcShutdownOptionsValidator().Validate(null, new GrpcShutdownOptions { ReadinessService = name });

        Assert.True(result.Failed);
        Assert.Contains(expected, result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(99)]
    [InlineData(60_001)]
    public void RefreshInterval_out_of_range_is_named_with_its_value(int milliseconds)
    {
        var options = new GrpcShutdownOptions { RefreshInterval = TimeSpan.FromMilliseconds(milliseconds) };

        ValidateOptionsResult result = new GrpcShutdownOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains($"GracefulShutdown:Grpc:RefreshInterval ({options.RefreshInterval})", result.FailureMessage, StringComparison.Ordinal);
    }
}
