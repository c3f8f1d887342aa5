import Glibc

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
    /// The CPU time of the whole process (every thread, signal handlers included) during the
    /// change's intervals.
    package var changeCPU: Duration
    /// The CPU time of the whole process during the proof.
    package var proofCPU: Duration

    /// The CPU time every thread of the process has used so far.
    static func processCPU() -> Duration {
        var now = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now)
        return .seconds(now.tv_sec) + .nanoseconds(now.tv_nsec)
    }

    /// The change alone: the sum of its intervals.
    package var changeDuration: Duration {
        change.reduce(.zero) { $0 + $1.lowerBound.duration(to: $1.upperBound) }
    }

    /// The proof alone.
    package var proofDuration: Duration { proof.lowerBound.duration(to: proof.upperBound) }
}
