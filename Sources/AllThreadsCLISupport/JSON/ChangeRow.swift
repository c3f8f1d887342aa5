import AllThreads

/// A change in the CLI's JSON: `change` (the call in words), `ok`, `error` (in words, `null` on
/// success), `broadcasts` (the change's own broadcasts), `engine_broadcasts` (all started),
/// `rounds`, `elapsed_ns` (the change alone), and the io_uring rings and registered rings a
/// privilege drop accepted (empty otherwise).
public struct ChangeRow: Encodable, Sendable {
    /// One broadcast: `result`, `threads` (that ran the call), `rounds`, `elapsed_ns`, `skipped`.
    public struct Report: Encodable, Sendable {
        public var result: Int
        public var threads: Int
        public var rounds: Int
        public var elapsedNs: Int64
        public var skipped: [Issue]
    }

    /// A skipped thread: `tid`, `name`, `state` (the /proc letter or `null`), `reason` in words.
    public struct Issue: Encodable, Sendable {
        public var tid: Int32
        public var name: String
        @Nullable public var state: String?
        public var reason: String
    }

    public var change: String
    public var ok: Bool
    @Nullable public var error: String?
    public var broadcasts: [Report]
    public var engineBroadcasts: Int
    public var rounds: Int
    public var elapsedNs: Int64
    public var acceptedIoUringRings: [RingRow]
    public var acceptedIoUringRegistrations: [RegistrationRow]

    /// The row of `record`.
    public init(_ record: ChangeRecord) {
        change = record.change.description
        ok = record.error == nil
        error = record.error?.description
        broadcasts = record.reports.map { report in
            Report(
                result: report.result, threads: report.threads, rounds: report.rounds, elapsedNs: report.elapsed.nanoseconds,
                skipped: report.skipped.map { Issue(tid: $0.tid, name: $0.name, state: $0.state.map(String.init), reason: $0.reason.description) })
        }
        engineBroadcasts = record.broadcasts
        rounds = record.rounds
        elapsedNs = record.elapsed.nanoseconds
        acceptedIoUringRings = record.acceptedIoUringRings.map(RingRow.init)
        acceptedIoUringRegistrations = record.acceptedIoUringRegistrations.map(RegistrationRow.init)
    }
}
