/// A kind of thread a real Swift program has.
public enum ThreadKind: String, CaseIterable, Sendable {
    /// A C pthread looping on `pause()`.
    case pthreadPause
    /// A C pthread blocked in `read()` on a pipe nobody writes to.
    case pthreadRead
    /// A C pthread looping on a private `FUTEX_WAIT` on a word nobody changes.
    case pthreadFutex
    /// A C pthread looping on a one-hour `nanosleep`.
    case pthreadNanosleep
    /// A pthread started from Swift, running a Swift closure blocked on a semaphore: what
    /// Foundation's `Thread` is on Linux (its `start()` calls `pthread_create`), without
    /// Foundation, which the command does not link (the scenarios start real `Thread`s too).
    case swiftThread
    /// A work item on its own serial `DispatchQueue`, so on a Dispatch worker thread of its own, blocked on a semaphore.
    case dispatchQueue
    /// Iterations of one `DispatchQueue.concurrentPerform`, run from a `swiftThread`: each reports running,
    /// and the last ones stay blocked on a semaphore, one per thread of Dispatch's small pool (and the caller).
    case concurrentPerform
    /// Child tasks of a `withTaskGroup` that await a continuation never resumed, leaving the cooperative pool idle.
    case taskGroup
}

/// Why starting workload threads failed.
public enum WorkloadError: Error, Hashable, CustomStringConvertible {
    /// A thread or unit did not start; the text says which and why.
    case startFailed(String)

    /// A one-line explanation.
    public var description: String {
        switch self {
        case .startFailed(let why): "workload start failed: \(why)"
        }
    }
}
