extension Capabilities {
    /// Removes these capabilities from the effective, permitted and inheritable sets of every
    /// thread (`capset`); the kernel then lowers them from the ambient sets too.
    ///
    /// Every thread gets the calling thread's sets without `capabilities`, read from /proc first.
    ///
    /// - Parameters:
    ///   - capabilities: the capabilities to take out of every set.
    ///   - options: deadline, signal, mismatch policy and mode of the broadcast.
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` before any thread changes for an argument
    ///   that cannot work; otherwise the errors of ``Broadcast/run(_:options:)``, each saying which
    ///   threads changed.
    @discardableResult
    public static func drop(_ capabilities: CapabilitySet, options: BroadcastOptions = BroadcastOptions()) throws(AllThreadsError) -> BroadcastReport {
        try requireSupported(capabilities)
        guard !capabilities.isEmpty else { throw .invalidArgument("no capability to drop") }
        let current = try callerCapabilities()
        return try Broadcast.run(
            .setCapabilities(
                effective: current.effective.subtracting(capabilities), permitted: current.permitted.subtracting(capabilities),
                inheritable: current.inheritable.subtracting(capabilities)),
            options: options)
    }
}
