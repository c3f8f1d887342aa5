import AllThreads

/// An io_uring ring in the CLI's JSON: `inode`, `fds`, `mapped`, `sq_thread` (`null` without SQPOLL).
public struct RingRow: Encodable, Sendable {
    /// The `inode` value.
    public var inode: UInt64
    /// The `fds` value.
    public var fds: [Int32]
    /// The `mapped` value.
    public var mapped: Bool
    /// The `sq_thread` value.
    @Nullable public var sqThread: Int32?

    /// The row of `ring`.
    public init(_ ring: IoUringRing) {
        inode = ring.inode
        fds = ring.descriptors
        mapped = ring.isMapped
        sqThread = ring.submissionPollingThread
    }
}
