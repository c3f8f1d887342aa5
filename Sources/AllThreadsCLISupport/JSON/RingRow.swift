import AllThreads

/// An io_uring ring in the CLI's JSON: `inode`, `fds` (the process's table), `thread_fds` (the
/// tables of threads that have their own, `{"tid", "fd"}` each), `mapped`, `sq_thread` (`null`
/// without SQPOLL).
package struct RingRow: Encodable, Sendable {
    /// A descriptor in one thread's own table: `tid`, `fd`.
    package struct ThreadFD: Encodable, Sendable {
        /// The `tid` value: the thread whose table holds the descriptor.
        package var tid: Int32
        /// The `fd` value.
        package var fd: Int32
    }

    /// The `inode` value.
    package var inode: UInt64
    /// The `fds` value.
    package var fds: [Int32]
    /// The `thread_fds` value.
    package var threadFds: [ThreadFD]
    /// The `mapped` value.
    package var mapped: Bool
    /// The `sq_thread` value.
    @Nullable package var sqThread: Int32?

    /// The row of `ring`.
    package init(_ ring: IoUringRing) {
        inode = ring.inode
        fds = ring.descriptors.map(\.rawValue)
        threadFds = ring.threadDescriptors.map { ThreadFD(tid: $0.tid, fd: $0.fd.rawValue) }
        mapped = ring.isMapped
        sqThread = ring.submissionPollingThread
    }
}
