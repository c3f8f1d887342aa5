import AllThreads

/// An io_uring ring in the CLI's JSON: `inode`, `fds`, `mapped`, `sq_thread` (`null` without SQPOLL).
public struct RingRow: Encodable, Sendable {
    public var inode: UInt64
    public var fds: [Int32]
    public var mapped: Bool
    @Nullable public var sqThread: Int32?

    /// The row of `ring`.
    public init(_ ring: IoUringRing) {
        inode = ring.inode
        fds = ring.descriptors
        mapped = ring.isMapped
        sqThread = ring.submissionPollingThread
    }
}
