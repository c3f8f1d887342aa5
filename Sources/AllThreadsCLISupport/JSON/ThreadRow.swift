import AllThreads
import SystemPackage

/// One thread in the CLI's JSON: its credentials, capabilities, no_new_privs, seccomp mode,
/// the /proc state letter, whether it runs application code, timer slack, nice value, CPUs and
/// io_uring role (`"sqpoll"`, `"worker"` or `null`); in a comparison also whether it `differs`.
package struct ThreadRow: Encodable, Sendable {
    /// The `tid` value.
    package var tid: Int32
    /// The `name` value.
    package var name: String
    /// The `state` value.
    package var state: String
    /// The `runs_code` value.
    package var runsCode: Bool
    /// The `uids` value.
    package var uids: IDs<UserID>
    /// The `gids` value.
    package var gids: IDs<GroupID>
    /// The `groups` value.
    package var groups: [UInt32]
    /// The `capabilities` value.
    package var capabilities: CapabilityRows
    /// The `no_new_privs` value.
    package var noNewPrivs: Bool
    /// The `seccomp` value.
    package var seccomp: String
    /// The `timer_slack_ns` value.
    @Nullable package var timerSlackNs: UInt64?
    @Nullable package var nice: Int32?
    package var cpusAllowed: String
    /// The `io_uring` value.
    @Nullable package var ioUring: String?
    /// Only in a comparison.
    package var differs: Bool?

    /// The row of `thread`; `differs` only for the threads of a comparison.
    package init(_ thread: ThreadState, differs: Bool? = nil) {
        let c = thread.credentials
        tid = thread.tid
        name = thread.name
        state = String(thread.state)
        runsCode = !thread.runsNoCode
        uids = c.uids
        gids = c.gids
        groups = c.groups.map(\.rawValue)
        capabilities = CapabilityRows(c.capabilities)
        noNewPrivs = c.noNewPrivs
        seccomp = c.seccomp.description
        timerSlackNs = thread.timerSlack.map { UInt64(clamping: $0.nanoseconds) }
        nice = thread.nice
        cpusAllowed = thread.cpusAllowedList
        ioUring = thread.ioUringRole.map { $0 == .submissionPolling ? "sqpoll" : "worker" }
        self.differs = differs
    }
}
