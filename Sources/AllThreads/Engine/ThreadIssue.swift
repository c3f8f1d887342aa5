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
        /// Another kernel worker of the process (a vhost worker: `PF_USER_WORKER`, Linux 6.4 and
        /// later); it takes no signals and runs no application code.
        case userWorker
        /// The thread was exiting.
        case exiting
        /// Relaxed mode: it took the signal but had not finished the call at the deadline;
        /// it finishes it late.
        case stillRunning
        /// It took the signal and died inside the handler (its seccomp filter killed it at a
        /// step, say): it runs no code any more; whether it ran a step is unknown.
        case diedInHandler
        /// Found in `/proc`, but the deadline passed before it could be signalled.
        case notSignalled
        /// It did not answer, and reading its `/proc` entry was denied (a Landlock domain that
        /// does not allow reading `/proc`, say), so why is unknown.
        case procDenied
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
    ///
    /// - Parameters:
    ///   - tid: the thread's kernel id.
    ///   - name: the thread's name (`comm`).
    ///   - state: the thread's state letter in `/proc`, if it could be read.
    ///   - reason: why the thread was not reached.
    package init(tid: Int32, name: String, state: Character?, reason: Reason) {
        self.tid = tid
        self.name = name
        self.state = state
        self.reason = reason
    }

    /// The text that names it in messages and logs.
    public var description: String {
        let label = name.isEmpty ? "" : " (\(name))"
        return "tid \(tid)\(label): \(reason)"
    }
}

extension ThreadIssue.Reason: CustomStringConvertible {
    /// The text that names it in messages and logs.
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
        case .userWorker: "kernel user worker (vhost)"
        case .procDenied: "did not answer, and reading its /proc entry was denied"
        case .exiting: "exiting"
        case .stillRunning: "took the signal but was still running the call at the deadline"
        case .diedInHandler: "took the signal and died while running the call"
        case .notSignalled: "found, but the deadline passed before it was signalled"
        }
    }
}
