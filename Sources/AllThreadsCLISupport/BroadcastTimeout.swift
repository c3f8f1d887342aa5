import AllThreads

extension BroadcastOptions {
    /// The longest deadline ``init(timeoutSeconds:)`` accepts: one hour.
    package static let longestTimeoutSeconds: Double = 3600

    /// Options with a deadline given in seconds, as a person types it (`0.5`, `30`).
    ///
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` unless `seconds` is a number greater
    ///   than 0 and at most ``longestTimeoutSeconds``.
    package init(timeoutSeconds seconds: Double) throws(AllThreadsError) {
        guard seconds > 0, seconds <= Self.longestTimeoutSeconds else {
            throw .invalidArgument("timeout \(seconds) s: it must be more than 0 and at most \(Int(Self.longestTimeoutSeconds)) seconds")
        }
        self.init(timeout: .nanoseconds(Int64(seconds * 1_000_000_000)))
    }
}
