import AllThreads

/// A process in the CLI's JSON: `pid`, `threads`, and the io_uring rings and registrations
/// (`null` when not read).
package struct SnapshotRow: Encodable, Sendable {
    /// The `pid` value.
    package var pid: Int32
    /// The `threads` value.
    package var threads: [ThreadRow]
    /// The `io_uring_rings` value.
    @Nullable package var ioUringRings: [RingRow]?
    @Nullable package var ioUringRegistrations: [RegistrationRow]?

    /// The row of `snapshot`.
    package init(_ snapshot: ProcessSnapshot) {
        pid = snapshot.pid
        threads = snapshot.threads.map { ThreadRow($0) }
        ioUringRings = snapshot.ioUringRings?.map(RingRow.init)
        ioUringRegistrations = snapshot.ioUringRegistrations?.map(RegistrationRow.init)
    }
}
