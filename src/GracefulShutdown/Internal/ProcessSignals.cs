using System.Runtime.InteropServices;

namespace GracefulShutdown.Internal;

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
    private static Action<PosixSignalContext>? s_attached;
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

            try
            {
                s_registrations =
                [
                    PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle),
                    PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle),
                    PosixSignalRegistration.Create(PosixSignal.SIGQUIT, Handle),
                ];
            }
            catch (PlatformNotSupportedException)
            {
                // Browsers and some mobile targets: the host's own lifetime is all there is.
                s_registrations = [];
            }
        }
    }

    /// <summary>Routes signals to a running host. Returns a signal received before it attached, if any.</summary>
    public static PosixSignal? Attach(Action<PosixSignalContext> handler)
    {
        lock (s_gate)
        {
            s_attached = handler;
            s_hostFinished = false;
            PosixSignal? early = s_early;
            s_early = null;
            s_earlyCount = 0;
            return early;
        }
    }

    public static void Detach(Action<PosixSignalContext> handler)
    {
        lock (s_gate)
        {
            if (ReferenceEquals(s_attached, handler))
            {
                s_attached = null;
                s_hostFinished = true;
            }
        }
    }

    private static void Handle(PosixSignalContext context)
    {
        Action<PosixSignalContext>? attached;
        lock (s_gate)
        {
            attached = s_attached;
            if (attached is null)
            {
                // After the host stopped, or on a second early signal, the default action (terminate) applies.
                if (!s_hostFinished && s_earlyCount++ == 0)
                {
                    s_early = context.Signal;
                    context.Cancel = true;
                }

                return;
            }
        }

        attached(context);
    }
}
