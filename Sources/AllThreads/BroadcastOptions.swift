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

/// How a broadcast runs.
public struct BroadcastOptions: Sendable, Hashable {
    /// How long the whole broadcast may take, waiting for the lock included.
    /// A thread that has not answered by then makes the broadcast fail, and then no thread has changed.
    public var timeout: Duration
    /// The signal used to reach the other threads.
    public var signal: KernelSignal
    /// What happens when a thread's result differs from the caller's.
    public var onMismatch: MismatchPolicy

    /// Creates options; the defaults suit every credential change.
    public init(timeout: Duration = .seconds(5), signal: KernelSignal = .setxid, onMismatch: MismatchPolicy = .throwError) {
        self.timeout = timeout
        self.signal = signal
        self.onMismatch = onMismatch
    }
}
