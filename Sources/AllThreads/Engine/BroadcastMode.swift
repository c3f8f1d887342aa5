/// How strongly a broadcast holds the other threads.
public enum BroadcastMode: Sendable, Hashable {
    /// Every thread is stopped, and none is missing, before any thread runs the call;
    /// an unreachable thread means no thread changed, and no thread runs application
    /// code with the old state once any runs with the new one. Two wake-ups per thread.
    case strict
    /// The caller runs the call first, then each thread runs it as soon as it handles
    /// the signal and goes on at once (one wake-up per thread; glibc's `setuid()` family
    /// instead runs the call on the calling thread last, after every other thread). An
    /// unreachable thread is found after the others changed
    /// (``AllThreadsError/Code/unreachableAfterChange``), and a thread created during the
    /// broadcast may run the call twice: use it for idempotent calls only.
    case relaxed
}
