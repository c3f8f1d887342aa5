import AllThreads

/// A process in the CLI's JSON: `pid`, `threads`, and the io_uring rings and registrations
/// (`null` when not read).
public struct SnapshotRow: Encodable, Sendable {
    /// The `pid` value.
    public var pid: Int32
    /// The `threads` value.
    public var threads: [ThreadRow]
    /// The `io_uring_rings` value.
    @Nullable public var ioUringRings: [RingRow]?
    @Nullable public var ioUringRegistrations: [RegistrationRow]?

    /// The row of `snapshot`.
    public init(_ snapshot: ProcessSnapshot) {
        pid = snapshot.pid
        threads = snapshot.threads.map { ThreadRow($0) }
        ioUringRings = snapshot.ioUringRings?.map(RingRow.init)
        ioUringRegistrations = snapshot.ioUringRegistrations?.map(RegistrationRow.init)
    }
}
