/// What an io_uring task of a process (a task with `PF_IO_WORKER`) does. Such a task runs no
/// application code and takes no signals, so no broadcast reaches it, but the kernel does work
/// for the process in it, with the credentials it was created with.
public enum IoUringTaskRole: Sendable, Hashable, CustomStringConvertible {
    /// An SQPOLL thread (`iou-sqp-<tid>`): submits its ring's requests with the credentials of the
    /// thread that created the ring, for as long as the ring lives.
    case submissionPolling
    /// An io-wq worker (`iou-wrk-<tid>`): runs requests that cannot complete at once.
    case worker

    /// `SQPOLL thread` or `io-wq worker`.
    public var description: String {
        switch self {
        case .submissionPolling: "SQPOLL thread"
        case .worker: "io-wq worker"
        }
    }

    /// The name the kernel gives SQPOLL threads starts with this.
    static let submissionPollingPrefix = "iou-sqp-"
}

extension ThreadState {
    /// The role of an io_uring task (``isIOWorker``), from the name the kernel gave it; `nil` for
    /// other tasks. A thread of the process can rename any task of it, so decisions rest on
    /// ``isIOWorker`` and on the rings' `SqThread:`, never on this.
    public var ioUringRole: IoUringTaskRole? {
        guard isIOWorker else { return nil }
        return name.hasPrefix(IoUringTaskRole.submissionPollingPrefix) ? .submissionPolling : .worker
    }

    /// True for every task whose credentials the kernel uses for the process: the threads that
    /// run code and the io_uring tasks; false for the zombie main thread and dead tasks.
    public var actsForProcess: Bool { state != "Z" && state != "X" }
}
