/// A signal number in the kernel's numbering (1...64).
///
/// glibc's `SIGRTMIN` macro says 34 because glibc reserves the kernel's 32 and 33
/// for itself; the kernel's real-time signals start at 32. Broadcast signals are
/// given in the kernel's numbering so that 33 can be named at all.
public struct KernelSignal: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The kernel's signal number.
    public var rawValue: Int32

    /// Wraps a kernel signal number.
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// The kernel's `SIGRTMIN + 1` (33), glibc's internal SIGSETXID: the default.
    ///
    /// glibc never lets application code block it, so it reaches Dispatch workers
    /// and Swift-concurrency threads, which block glibc's own `SIGRTMIN...SIGRTMAX`.
    /// The engine passes glibc's own deliveries on to glibc's handler.
    public static let setxid = KernelSignal(rawValue: 33)

    /// glibc's `SIGRTMIN + n` (the kernel's 34 + n), for callers that want one.
    /// Dispatch and Swift-concurrency threads block these: a broadcast on one of
    /// them fails as unreachable in most Swift programs.
    public static func glibcRealtime(_ n: Int32) -> KernelSignal { KernelSignal(rawValue: 34 + n) }

    public var description: String { "signal \(rawValue)" }
}

/// What a broadcast does when threads disagree on the result.
public enum MismatchPolicy: Sendable, Hashable {
    /// Throw ``AllThreadsError/mismatch(caller:threads:)`` naming every thread that disagreed.
    case throwError
    /// Print the disagreement on standard error and abort the process, as glibc and Go do.
    case abort
}

/// How strongly a broadcast holds the other threads.
public enum BroadcastMode: Sendable, Hashable {
    /// Every thread is stopped, and none is missing, before any thread runs the call;
    /// an unreachable thread means no thread changed, and no thread runs application
    /// code with the old state once any runs with the new one. Two wake-ups per thread.
    case strict
    /// glibc's semantics: the caller runs the call, then each thread runs it as soon as
    /// it handles the signal and goes on at once (one wake-up per thread). An
    /// unreachable thread is found after the others changed
    /// (``AllThreadsError/unreachableAfterChange(_:)``), and a thread created during the
    /// broadcast may run the call twice: use it for idempotent calls only.
    case relaxed
}

/// How a broadcast runs.
public struct BroadcastOptions: Sendable, Hashable {
    /// How long the whole broadcast may take, waiting for the lock included.
    /// A thread that has not answered by then makes the broadcast fail, and then no thread has changed.
    public var timeout: Duration
    /// The signal used to reach the other threads.
    public var signal: KernelSignal
    /// What happens when a thread's result differs from the caller's.
    public var onMismatch: MismatchPolicy
    /// Strict (the default) or relaxed.
    public var mode: BroadcastMode

    /// Creates options; the defaults suit every credential change.
    public init(
        timeout: Duration = .seconds(5), signal: KernelSignal = .setxid, onMismatch: MismatchPolicy = .throwError,
        mode: BroadcastMode = .strict
    ) {
        self.timeout = timeout
        self.signal = signal
        self.onMismatch = onMismatch
        self.mode = mode
    }
}
