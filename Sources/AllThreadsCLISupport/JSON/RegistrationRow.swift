import AllThreads

/// A registered io_uring ring in the CLI's JSON: its `slot` and the `threads` (`tid`, `name`) that hold it.
public struct RegistrationRow: Encodable, Sendable {
    /// The `slot` value.
    public var slot: Int
    /// The `threads` value.
    public var threads: [ThreadIdentity]

    /// The row of `registration`.
    public init(_ registration: IoUringRegistration) {
        slot = registration.slot
        threads = registration.threads
    }
}
