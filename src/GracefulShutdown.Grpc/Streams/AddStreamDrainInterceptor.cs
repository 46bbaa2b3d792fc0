using Grpc.AspNetCore.Server;

namespace GracefulShutdown.Grpc.Streams;

/// <summary>Puts <see cref="StreamDrainInterceptor"/> in front of every gRPC service.</summary>
internal sealed class AddStreamDrainInterceptor : Microsoft.Extensions.Options.IConfigureOptions<GrpcServiceOptions>
{
    public void Configure(GrpcServiceOptions options) => options.Interceptors.Add<StreamDrainInterceptor>();
}
