import AllThreads

/// One thread in the CLI's JSON: its credentials, capabilities, no_new_privs, seccomp mode,
/// the /proc state letter, whether it runs application code, timer slack, nice value, CPUs and
/// io_uring role (`"sqpoll"`, `"worker"` or `null`); in a comparison also whether it `differs`.
public struct ThreadRow: Encodable, Sendable {
    /// The `tid` value.
    public var tid: Int32
    /// The `name` value.
    public var name: String
    /// The `state` value.
    public var state: String
    /// The `runs_code` value.
    public var runsCode: Bool
    /// The `uids` value.
    public var uids: IDs
    /// The `gids` value.
    public var gids: IDs
    /// The `groups` value.
    public var groups: [UInt32]
    /// The `capabilities` value.
    public var capabilities: CapabilityRows
    /// The `no_new_privs` value.
    public var noNewPrivs: Bool
    /// The `seccomp` value.
    public var seccomp: String
    /// The `timer_slack_ns` value.
    @Nullable public var timerSlackNs: UInt64?
    @Nullable public var nice: Int32?
    public var cpusAllowed: String
    /// The `io_uring` value.
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
