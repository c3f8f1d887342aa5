import AllThreads

/// An io_uring ring in the CLI's JSON: `inode`, `fds` (the process's table), `thread_fds` (the
/// tables of threads that have their own, `{"tid", "fd"}` each), `mapped`, `sq_thread` (`null`
/// without SQPOLL).
public struct RingRow: Encodable, Sendable {
    /// A descriptor in one thread's own table: `tid`, `fd`.
    public struct ThreadFD: Encodable, Sendable {
        /// The `tid` value: the thread whose table holds the descriptor.
        public var tid: Int32
        /// The `fd` value.
        public var fd: Int32
    }

    /// The `inode` value.
    public var inode: UInt64
    /// The `fds` value.
    public var fds: [Int32]
    /// The `thread_fds` value.
    public var threadFds: [ThreadFD]
    /// The `mapped` value.
    public var mapped: Bool
    /// The `sq_thread` value.
    @Nullable public var sqThread: Int32?

    /// The row of `ring`.
    public init(_ ring: IoUringRing) {
        inode = ring.inode
        fds = ring.descriptors
        threadFds = ring.threadDescriptors.map { ThreadFD(tid: $0.tid, fd: $0.fd) }
        mapped = ring.isMapped
        sqThread = ring.submissionPollingThread
    }
}
