import AllThreads

/// A change in the CLI's JSON: `change` (the call in words), `ok`, `error` (in words, `null` on
/// success), `broadcasts` (the change's own broadcasts), `engine_broadcasts` (all started),
/// `rounds`, `elapsed_ns` (the change alone), the io_uring rings and registered rings a
/// privilege drop accepted (empty otherwise), and `sandbox` (``SandboxRow``, `null` but for a sandbox).
package struct ChangeRow: Encodable, Sendable {
    /// One broadcast: `result`, `threads` (that ran the call), `rounds`, `elapsed_ns`, `skipped`.
    package struct Report: Encodable, Sendable {
        /// The `result` value.
        package var result: Int
        /// The `threads` value.
        package var threads: Int
        /// The `rounds` value.
        package var rounds: Int
        /// The `elapsed_ns` value.
        package var elapsedNs: Int64
        /// The `skipped` value.
        package var skipped: [Issue]
    }

    /// A skipped thread: `tid`, `name`, `state` (the /proc letter or `null`), `reason` in words.
    package struct Issue: Encodable, Sendable {
        /// The `tid` value.
        package var tid: Int32
        /// The `name` value.
        package var name: String
        /// The `state` value.
        @Nullable package var state: String?
        package var reason: String
    }

    /// The `change` value.
    package var change: String
    /// The `ok` value.
    package var ok: Bool
    /// The `error` value.
    @Nullable package var error: String?
    package var broadcasts: [Report]
    /// The `engine_broadcasts` value.
    package var engineBroadcasts: Int
    /// The `rounds` value.
    package var rounds: Int
    /// The `elapsed_ns` value.
    package var elapsedNs: Int64
    /// The `accepted_io_uring_rings` value.
    package var acceptedIoUringRings: [RingRow]
    /// The `accepted_io_uring_registrations` value.
    package var acceptedIoUringRegistrations: [RegistrationRow]
    /// The `sandbox` value: what a sandbox enforced and proved (``SandboxRow``); `null` for other changes.
    @Nullable package var sandbox: SandboxRow?

    /// The row of `record`.
    package init(_ record: ChangeRecord) {
        change = record.change.description
        ok = record.error == nil
        error = record.error?.description
        broadcasts = record.reports.map { report in
            Report(
                result: report.result.rawValue, threads: report.threads, rounds: report.rounds, elapsedNs: report.elapsed.nanoseconds,
                skipped: report.skipped.map { Issue(tid: $0.tid, name: $0.name, state: $0.state.map(String.init), reason: $0.reason.description) })
        }
        engineBroadcasts = record.broadcasts
        rounds = record.rounds
        elapsedNs = record.elapsed.nanoseconds
        acceptedIoUringRings = record.acceptedIoUringRings.map(RingRow.init)
        acceptedIoUringRegistrations = record.acceptedIoUringRegistrations.map(RegistrationRow.init)
        sandbox = record.sandbox.map(SandboxRow.init)
    }
}
