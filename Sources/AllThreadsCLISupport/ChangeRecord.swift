import AllThreads

/// What applying a ``ThreadChange`` did: its broadcasts, how long it took, and its error.
package struct ChangeRecord: Sendable {
    /// The change.
    package var change: ThreadChange
    /// The reports of the broadcasts that succeeded, in order. A seccomp load (one kernel call,
    /// no broadcast) and a privilege drop (which reports its proof instead) add none.
    package var reports: [BroadcastReport]
    /// Broadcasts the engine started for the change (``EngineStatistics/broadcasts``), failed ones included.
    package var broadcasts: Int
    /// Wall time of the whole change.
    package var elapsed: Duration
    /// Why the change failed; `nil` when it succeeded on every thread.
    package var error: AllThreadsError?
    /// The io_uring rings a privilege drop accepted (``IoUringPolicy/accept``); empty otherwise.
    package var acceptedIoUringRings: [IoUringRing]
    /// The registered io_uring rings a privilege drop accepted; empty otherwise.
    package var acceptedIoUringRegistrations: [IoUringRegistration]
    /// What a sandbox enforced per layer and proved on every thread; `nil` for other changes.
    package var sandbox: SandboxReport?

    /// Creates a record.
    package init(
        change: ThreadChange, reports: [BroadcastReport], broadcasts: Int, elapsed: Duration, error: AllThreadsError?,
        acceptedIoUringRings: [IoUringRing] = [], acceptedIoUringRegistrations: [IoUringRegistration] = [],
        sandbox: SandboxReport? = nil
    ) {
        self.change = change
        self.reports = reports
        self.broadcasts = broadcasts
        self.elapsed = elapsed
        self.error = error
        self.acceptedIoUringRings = acceptedIoUringRings
        self.acceptedIoUringRegistrations = acceptedIoUringRegistrations
        self.sandbox = sandbox
    }

    /// Signalling rounds over all reported broadcasts.
    package var rounds: Int { reports.reduce(0) { $0 + $1.rounds } }

    /// True when the change was refused as invalid before any broadcast started: no thread changed.
    package var rejectedUpFront: Bool {
        error?.code == .argumentRejected && broadcasts == 0
    }
}
