/// When each part of a ``PrivilegeDrop/apply(options:)`` ran: the change (the program's broadcasts,
/// then the seccomp filter's load) and the proof after it (every thread and io_uring task read
/// back, retained privileges looked for again), as intervals of one clock, so that what a
/// report calls the change can be checked to end before the proof starts.
package struct DropTimeline: Sendable, Hashable {
    /// The intervals of the change, in order: the program, then the filter's load (empty without
    /// a filter). The `F_SETOWN` re-recording and the io_uring probe between them are not part of it.
    package var change: [Range<ContinuousClock.Instant>]
    /// The proof, after the change.
    package var proof: Range<ContinuousClock.Instant>

    /// The change alone: the sum of its intervals.
    package var changeDuration: Duration {
        change.reduce(.zero) { $0 + $1.lowerBound.duration(to: $1.upperBound) }
    }

    /// The proof alone.
    package var proofDuration: Duration { proof.lowerBound.duration(to: proof.upperBound) }
}
