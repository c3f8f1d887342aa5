import SystemPackage

/// A thread named in a report or an error: its id, its name and what happened to it.
public struct ThreadIssue: Sendable, Hashable, CustomStringConvertible {
    /// Why a thread was unreachable, or why it was skipped.
    public enum Reason: Sendable, Hashable {
        /// Its signal mask blocks the broadcast signal (a raw `rt_sigprocmask`).
        case signalBlocked
        /// Stopped by a tracer or by job control.
        case stopped
        /// In uninterruptible sleep.
        case uninterruptible
        /// Signalled, runnable, but it did not answer in time.
        case noResponse
        /// The signal could not be queued (`RLIMIT_SIGPENDING` is full).
        case signalQueueFull
        /// The kernel refused to send the signal.
        case sendFailed(Errno)
        /// The main thread called `pthread_exit`; it runs no code.
        case zombieMainThread
        /// An io_uring worker; it takes no signals and runs no application code.
        case ioWorker
        /// The thread was exiting.
        case exiting
        /// Relaxed mode: it took the signal but had not finished the call at the deadline;
        /// it finishes it late.
        case stillRunning
    }

    /// The kernel thread id.
    public var tid: Int32
    /// The thread's name (`comm`), empty when it is gone.
    public var name: String
    /// Its `/proc` state letter when known.
    public var state: Character?
    /// Why it is named.
    public var reason: Reason

    /// Creates an issue entry.
    public init(tid: Int32, name: String, state: Character?, reason: Reason) {
        self.tid = tid
        self.name = name
        self.state = state
        self.reason = reason
    }

    public var description: String {
        let label = name.isEmpty ? "" : " (\(name))"
        return "tid \(tid)\(label): \(reason)"
    }
}

extension ThreadIssue.Reason: CustomStringConvertible {
    public var description: String {
        switch self {
        case .signalBlocked: "blocks the broadcast signal"
        case .stopped: "stopped (traced or job control)"
        case .uninterruptible: "in uninterruptible sleep"
        case .noResponse: "did not answer before the deadline"
        case .signalQueueFull: "signal queue full (RLIMIT_SIGPENDING)"
        case .sendFailed(let errno): "signal refused: \(errno)"
        case .zombieMainThread: "zombie main thread (pthread_exit)"
        case .ioWorker: "io_uring worker"
        case .exiting: "exiting"
        case .stillRunning: "took the signal but was still running the call at the deadline"
        }
    }
}

/// The raw result of a system call: a value, or an `Errno`.
public struct SyscallResult: Sendable, Hashable, CustomStringConvertible {
    /// The kernel's return value: non-negative on success, `-errno` on failure.
    public var rawValue: Int

    /// Wraps the kernel's raw return value.
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// The error, when the call failed.
    public var errno: Errno? { (-4095 ... -1).contains(rawValue) ? Errno(rawValue: CInt(-rawValue)) : nil }

    public var description: String { errno.map { "\($0)" } ?? "\(rawValue)" }
}

/// One thread's result of the call, in a mismatch or an incomplete broadcast.
public struct ThreadResult: Sendable, Hashable, CustomStringConvertible {
    /// The kernel thread id.
    public var tid: Int32
    /// The thread's name (`comm`).
    public var name: String
    /// What the call returned on that thread; `nil` when it had not finished.
    public var result: SyscallResult?

    /// Creates a result entry.
    public init(tid: Int32, name: String, result: SyscallResult?) {
        self.tid = tid
        self.name = name
        self.result = result
    }

    public var description: String {
        let label = name.isEmpty ? "" : " (\(name))"
        return "tid \(tid)\(label): \(result.map { "\($0)" } ?? "no result")"
    }
}

/// A thread named by its kernel id and its name.
public struct ThreadIdentity: Sendable, Hashable, CustomStringConvertible {
    /// The kernel thread id.
    public var tid: Int32
    /// The thread's name (`comm`), empty when it is gone.
    public var name: String

    /// Names a thread.
    public init(tid: Int32, name: String) {
        self.tid = tid
        self.name = name
    }

    public var description: String { name.isEmpty ? "tid \(tid)" : "tid \(tid) (\(name))" }
}
