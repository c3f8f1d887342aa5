import AllThreads

/// A registered io_uring ring in the CLI's JSON: its `slot` and the `threads` (`tid`, `name`) that hold it.
public struct RegistrationRow: Encodable, Sendable {
    public var slot: Int
    public var threads: [ThreadIdentity]

    /// The row of `registration`.
    public init(_ registration: IoUringRegistration) {
        slot = registration.slot
        threads = registration.threads
    }
}
