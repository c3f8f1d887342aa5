import AllThreads

/// One thread in the CLI's JSON: its credentials, capabilities, no_new_privs, seccomp mode,
/// the /proc state letter, whether it runs application code, timer slack, nice value, CPUs and
/// io_uring role (`"sqpoll"`, `"worker"` or `null`); in a comparison also whether it `differs`.
public struct ThreadRow: Encodable, Sendable {
    public var tid: Int32
    public var name: String
    public var state: String
    public var runsCode: Bool
    public var uids: IDs
    public var gids: IDs
    public var groups: [UInt32]
    public var capabilities: CapabilityRows
    public var noNewPrivs: Bool
    public var seccomp: String
    @Nullable public var timerSlackNs: UInt64?
    @Nullable public var nice: Int32?
    public var cpusAllowed: String
    @Nullable public var ioUring: String?
    /// Only in a comparison.
    public var differs: Bool?

    /// The row of `thread`; `differs` only for the threads of a comparison.
    public init(_ thread: ThreadState, differs: Bool? = nil) {
        let c = thread.credentials
        tid = thread.tid
        name = thread.name
        state = String(thread.state)
        runsCode = !thread.runsNoCode
        uids = c.uids
        gids = c.gids
        groups = c.groups
        capabilities = CapabilityRows(c.capabilities)
        noNewPrivs = c.noNewPrivs
        seccomp = c.seccomp.description
        timerSlackNs = thread.timerSlackNanoseconds
        nice = thread.nice
        cpusAllowed = thread.cpusAllowedList
        ioUring = thread.ioUringRole.map { $0 == .submissionPolling ? "sqpoll" : "worker" }
        self.differs = differs
    }
}
