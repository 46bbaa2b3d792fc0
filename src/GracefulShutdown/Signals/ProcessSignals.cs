using System.Runtime.InteropServices;

namespace GracefulShutdown.Signals;

/// <summary>
/// Process-wide SIGTERM/SIGINT/SIGQUIT handling, registered when <c>AddGracefulShutdown()</c> runs, before the host is built.
/// </summary>
/// <remarks>
/// Since .NET 10 the runtime has no default SIGTERM handler, and the host registers its own only once it starts: a signal during
/// start-up (DI build, migrations before <c>Run</c>) would kill the process with 143 and run no shutdown code. Until a host attaches,
/// the first signal is recorded and suppressed so the host can start and then stop in order; a second one terminates at once.
/// Signals are per process, so this state is static by nature.
/// </remarks>
internal static class ProcessSignals
{
    private static readonly Lock s_gate = new();
    private static PosixSignalRegistration[]? s_registrations;
    private static bool s_attached;
    private static PosixSignal? s_early;
    private static int s_earlyCount;
    private static bool s_hostFinished;

    public static void EnsureRegistered()
    {
        lock (s_gate)
        {
            if (s_registrations is not null)
            {
                return;
            }

            s_registrations = Register(Handle);
        }
    }

    /// <summary>
    /// Hands signal handling to a starting host: registers <paramref name="handler"/> for SIGTERM, SIGINT and SIGQUIT
    /// (registered after the host's own console lifetime, so it runs first and sees which signal began the drain).
    /// Returns the registration and a signal received before the host attached, if any.
    /// </summary>
    public static (IDisposable Registration, PosixSignal? EarlySignal) Attach(Action<PosixSignalContext> handler)
    {
        PosixSignalRegistration[] registrations = Register(handler);

        lock (s_gate)
        {
            s_attached = true;
            s_hostFinished = false;
            PosixSignal? early = s_early;
            s_early = null;
            s_earlyCount = 0;
            return (new Registrations(registrations), early);
        }
    }

    private static PosixSignalRegistration[] Register(Action<PosixSignalContext> handler)
    {
        try
        {
            return
            [
                PosixSignalRegistration.Create(PosixSignal.SIGTERM, handler),
                PosixSignalRegistration.Create(PosixSignal.SIGINT, handler),
                PosixSignalRegistration.Create(PosixSignal.SIGQUIT, handler),
            ];
        }
        catch (PlatformNotSupportedException)
        {
            // Browsers and some mobile targets: the host's own lifetime is all there is.
            return [];
        }
    }

    private static void Handle(PosixSignalContext context)
    {
        lock (s_gate)
        {
            // A running host handles signals with its own registration; after it stopped, or on a second
            // early signal, the default action (terminate) applies.
            if (!s_attached && !s_hostFinished && s_earlyCount++ == 0)
            {
                s_early = context.Signal;
                context.Cancel = true;
            }
        }
    }

    /// <summary>Disposing it means the host has stopped: from then on signals take their default action.</summary>
    private sealed class Registrations(PosixSignalRegistration[] registrations) : IDisposable
    {
        public void Dispose()
        {
            foreach (PosixSignalRegistration registration in registrations)
            {
                registration.Dispose();
            }

            lock (s_gate)
            {
                s_attached = false;
                s_hostFinished = true;
            }
        }
    }
}
