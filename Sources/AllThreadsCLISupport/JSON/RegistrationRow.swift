import AllThreads

/// A registered io_uring ring in the CLI's JSON: its `slot` and the `threads` (`tid`, `name`) that hold it.
package struct RegistrationRow: Encodable, Sendable {
    /// The `slot` value.
    package var slot: Int
    /// The `threads` value.
    package var threads: [ThreadIdentity]

    /// The row of `registration`.
    package init(_ registration: IoUringRegistration) {
        slot = registration.slot
        threads = registration.threads
    }
}
