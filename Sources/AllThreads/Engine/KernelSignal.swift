/// A signal number in the kernel's numbering (1...64).
///
/// glibc's `SIGRTMIN` macro says 34 because glibc reserves the kernel's 32 and 33
/// for itself; the kernel's real-time signals start at 32. Broadcast signals are
/// given in the kernel's numbering so that 33 can be named at all.
public struct KernelSignal: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The kernel's signal number.
    public var rawValue: Int32

    /// Wraps a kernel signal number.
    ///
    /// - Parameters:
    ///   - rawValue: the raw value.
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
    ///
    /// - Parameters:
    ///   - n: the offset from glibc's `SIGRTMIN`.
    public static func glibcRealtime(_ n: Int32) -> KernelSignal { KernelSignal(rawValue: 34 + n) }

    /// The text that names it in messages and logs.
    public var description: String { "signal \(rawValue)" }
}
