import AllThreads

/// A comparison in the CLI's JSON (`verification`, `inspect --json`): `pid`, `agree`, `aspects`,
/// `reference_tid` (`null` when no thread runs code), `thread_count`, `checked_threads`,
/// `differing`, every thread with `differs`, and `io_uring_rings` (`null` when not read).
package struct ComparisonRow: Encodable, Sendable {
    /// The `pid` value.
    package var pid: Int32
    /// The `agree` value.
    package var agree: Bool
    /// The `aspects` value.
    package var aspects: [String]
    /// The `reference_tid` value.
    @Nullable package var referenceTid: Int32?
    package var threadCount: Int
    /// The `checked_threads` value.
    package var checkedThreads: Int
    /// The `differing` value.
    package var differing: [DifferenceRow]
    /// The `threads` value.
    package var threads: [ThreadRow]
    /// The `io_uring_rings` value.
    @Nullable package var ioUringRings: [RingRow]?

    /// The row of `comparison`.
    package init(_ comparison: ThreadComparison) {
        let differs = Set(comparison.differences.map(\.thread.tid))
        pid = comparison.snapshot.pid
        agree = comparison.agree
        aspects = comparison.aspects.names
        referenceTid = comparison.reference?.tid
        threadCount = comparison.snapshot.threads.count
        checkedThreads = comparison.checkedThreads
        differing = comparison.differences.map(DifferenceRow.init)
        threads = comparison.snapshot.threads.map { ThreadRow($0, differs: differs.contains($0.tid)) }
        ioUringRings = comparison.snapshot.ioUringRings?.map(RingRow.init)
    }
}
