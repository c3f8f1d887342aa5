/// What a successful broadcast did.
public struct BroadcastReport: Sendable, Hashable {
    /// The call's result (a program's: its last step's), the same on every thread.
    public var result: SyscallResult
    /// The result of each step of a program of more than one step, the same on every
    /// thread; empty for a single call (its result is ``result``).
    public var stepResults: [SyscallResult] = []
    /// Threads that ran the call, the caller included.
    public var threads: Int
    /// Signalling rounds: more than one when threads appeared during the broadcast.
    public var rounds: Int
    /// Tasks that run no application code and were left alone:
    /// the zombie main thread, io_uring workers, exiting threads.
    public var skipped: [ThreadIssue]
    /// Wall time of the broadcast.
    public var elapsed: Duration
}
