using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulShutdown.GrpcRollout;

/// <summary>
/// Client-side round robin as behind a headless Service: the channel balances over the addresses its resolver reports,
/// which the harness updates like a DNS answer (a replica joins when ready, leaves L seconds after its termination began).
/// </summary>
internal sealed class ClientSideBalancer : IBalancer
{
    private readonly HeadlessServiceResolverFactory _factory = new();

    public GrpcChannel CreateChannel()
    {
        var services = new ServiceCollection();
        services.AddSingleton<ResolverFactory>(_factory);
        return GrpcChannel.ForAddress("headless:///greeter", new GrpcChannelOptions
        {
            Credentials = ChannelCredentials.Insecure,
            ServiceConfig = new ServiceConfig { LoadBalancingConfigs = { new RoundRobinConfig() } },
            ServiceProvider = services.BuildServiceProvider(),
        });
    }

    public Task AddAsync(Replica replica)
    {
        _factory.Add(replica.Port);
        return Task.CompletedTask;
    }

    public Task RemoveAsync(Replica replica)
    {
        _factory.Remove(replica.Port);
        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private sealed class HeadlessServiceResolverFactory : ResolverFactory
    {
        private readonly Lock _gate = new();
        private readonly List<int> _ports = [];
        private readonly List<HeadlessServiceResolver> _resolvers = [];

        public override string Name => "headless";

        public override Resolver Create(ResolverOptions options)
        {
            var resolver = new HeadlessServiceResolver(this);
            lock (_gate)
            {
                _resolvers.Add(resolver);
            }

            return resolver;
        }

        public void Add(int port) => Update(ports => ports.Add(port));

        public void Remove(int port) => Update(ports => ports.Remove(port));

        public ResolverResult Snapshot()
        {
            lock (_gate)
            {
                return ResolverResult.ForResult([.. _ports.Select(p => new BalancerAddress("127.0.0.1", p))]);
            }
        }

        private void Update(Action<List<int>> change)
        {
            HeadlessServiceResolver[] resolvers;
            lock (_gate)
            {
                change(_ports);
                resolvers = [.. _resolvers];
            }

            foreach (HeadlessServiceResolver r in resolvers)
            {
                r.Publish();
            }
        }
    }

    private sealed class HeadlessServiceResolver(HeadlessServiceResolverFactory factory) : Resolver
    {
        private Action<ResolverResult>? _listener;

        public override void Start(Action<ResolverResult> listener)
        {
            _listener = listener;
            Publish();
        }

        public void Publish() => _listener?.Invoke(factory.Snapshot());
    }
}
