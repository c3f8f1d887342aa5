/// An io_uring task of the process (an SQPOLL thread or an io-wq worker) that a privilege drop
/// cannot vouch for: no broadcast reaches it, it keeps the credentials it was created with, and an
/// SQPOLL thread also serves rings attached to it with their creators' credentials.
public struct IoUringTask: Sendable, Hashable, CustomStringConvertible {
    /// The task.
    public var thread: ThreadIdentity
    /// What it does, from its name (``ThreadState/ioUringRole``).
    public var role: IoUringTaskRole
    /// The rings whose `SqThread:` is this task; empty for an io-wq worker, and for an SQPOLL
    /// thread whose ring has no descriptor left (closed and being torn down, or kept alive by a
    /// mapping or a registration).
    public var rings: [IoUringRing]
    /// Its credentials against the target's (``ThreadCredentials/actingDifferences(from:)``); empty
    /// when it holds the target's (it counts all the same).
    public var differences: [FieldDifference]

    /// Describes a task.
    ///
    /// - Parameters:
    ///   - thread: the task.
    ///   - role: the task's role (SQPOLL thread or io-wq worker).
    ///   - rings: the rings the task serves.
    ///   - differences: the fields that differ from the drop's target.
    package init(thread: ThreadIdentity, role: IoUringTaskRole, rings: [IoUringRing], differences: [FieldDifference]) {
        self.thread = thread
        self.role = role
        self.rings = rings
        self.differences = differences
    }

    /// Such as `tid 812 (iou-sqp-811), SQPOLL thread of io_uring ring fd 3: uid 0/0/0/0, expected 65534/65534/65534/65534`.
    public var description: String {
        let owner = rings.isEmpty ? "" : " of " + rings.map(\.description).joined(separator: ", ")
        return "\(thread), \(role)\(owner)" + (differences.isEmpty ? "" : ": " + differences.map(\.description).joined(separator: ", "))
    }
}
