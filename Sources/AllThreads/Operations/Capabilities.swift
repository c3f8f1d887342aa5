import CBroadcast

/// Dropping capabilities from every thread's sets (``drop(_:options:)``).
///
/// Capability sets, the bounding set, ambient capabilities, securebits and keep-caps have program
/// forms (``BroadcastProgram/setCapabilities(effective:permitted:inheritable:)``,
/// ``BroadcastProgram/dropFromBoundingSet(_:)``, …) that ``Broadcast/run(_:options:)`` runs on every
/// thread. Every capability must be supported by the running kernel (``Capability/lastSupported``).
public enum Capabilities {
    static func requireSupported(_ capabilities: CapabilitySet) throws(AllThreadsError) {
        let unsupported = capabilities.subtracting(.allSupported)
        guard unsupported.isEmpty else {
            throw .invalidArgument("capabilities \(unsupported) are above the running kernel's last, \(Capability.lastSupported)")
        }
    }

    /// The calling thread's effective and permitted sets, as `capget` (version 3, pid 0) gives
    /// them: the kernel's answer without the cost of rendering and parsing `status` (about 200 µs
    /// of CPU). Both empty if the kernel refused, which makes every check of them fail.
    static func callerEffectiveAndPermitted() -> (effective: CapabilitySet, permitted: CapabilitySet) {
        var header: [UInt32] = [UInt32(_LINUX_CAPABILITY_VERSION_3), 0]
        // Two `__user_cap_data_struct`s (effective, permitted, inheritable): bits 0-31, then 32-63.
        var data = [UInt32](repeating: 0, count: 6)
        let result = header.withUnsafeMutableBytes { header in
            data.withUnsafeMutableBytes { data in
                cb_syscall(Int(SYS_capget), Int(bitPattern: header.baseAddress), Int(bitPattern: data.baseAddress), 0, 0, 0, 0)
            }
        }
        guard result == 0 else { return ([], []) }
        let set = { (word: Int) in CapabilitySet(rawValue: UInt64(data[word]) | UInt64(data[word + 3]) << 32) }
        return (set(0), set(1))
    }

    /// The calling thread's capability sets, from /proc/thread-self/status.
    static func callerCapabilities() throws(AllThreadsError) -> CapabilitySets {
        do throws(ProcfsError) {
            let bytes = try Procfs.read("/proc/thread-self/status")
            return try ThreadState(tid: 0, status: String(decoding: bytes, as: UTF8.self)).credentials.capabilities
        } catch {
            throw .procfs(error)
        }
    }
}

extension BroadcastProgram {
    /// Sets the effective, permitted and inheritable sets of every thread (`capset`).
    /// The effective set must be part of the permitted set.
    ///
    /// Run it with ``Broadcast/run(_:options:)``.
    ///
    /// - Parameters:
    ///   - effective: the effective set, part of the permitted set.
    ///   - permitted: the permitted set.
    ///   - inheritable: the inheritable set.
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` for an argument that cannot work; nothing
    ///   runs.
    public static func setCapabilities(
        effective: CapabilitySet, permitted: CapabilitySet, inheritable: CapabilitySet
    ) throws(AllThreadsError) -> BroadcastProgram {
        try Capabilities.requireSupported(effective.union(permitted).union(inheritable))
        guard effective.isSubset(of: permitted) else {
            throw .invalidArgument("effective capabilities \(effective.subtracting(permitted)) are not in the permitted set")
        }
        return capset(effective: effective, permitted: permitted, inheritable: inheritable)
    }

    /// `capset` with the kernel's version 3 header and two `__user_cap_data_struct`s
    /// (effective, permitted, inheritable; bits 0-31, then 32-63), unchecked.
    static func capset(effective: CapabilitySet, permitted: CapabilitySet, inheritable: CapabilitySet) -> BroadcastProgram {
        let header: [UInt32] = [UInt32(_LINUX_CAPABILITY_VERSION_3), 0]
        let data: [UInt32] = [0, 32].flatMap { (shift: UInt64) in
            [effective, permitted, inheritable].map { UInt32(truncatingIfNeeded: $0.rawValue >> shift) }
        }
        let bytes = { (words: [UInt32]) in words.withUnsafeBytes { Array($0) } }
        return BroadcastProgram([BroadcastStep(.capset, arguments: [.bytes(bytes(header)), .bytes(bytes(data))])])
    }

    /// Drops these capabilities from every thread's bounding set (`PR_CAPBSET_DROP`),
    /// in one broadcast (a step per capability). Needs `CAP_SETPCAP`.
    ///
    /// A step per capability.
    ///
    /// Run it with ``Broadcast/run(_:options:)``.
    ///
    /// - Parameters:
    ///   - capabilities: the capabilities.
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` for an argument that cannot work; nothing
    ///   runs.
    public static func dropFromBoundingSet(_ capabilities: CapabilitySet) throws(AllThreadsError) -> BroadcastProgram {
        try Capabilities.requireSupported(capabilities)
        return BroadcastProgram(capabilities.map { BroadcastStep(.prctl, Int(PR_CAPBSET_DROP), Int($0.rawValue)) })
    }

    /// Raises these ambient capabilities on every thread, in one broadcast. Each must already
    /// be in the caller's permitted and inheritable sets (checked first, from /proc).
    ///
    /// Each capability must be in the calling thread's permitted and inheritable sets now.
    ///
    /// Run it with ``Broadcast/run(_:options:)``.
    ///
    /// - Parameters:
    ///   - capabilities: the capabilities.
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` for an argument that cannot work; nothing
    ///   runs.
    public static func raiseAmbient(_ capabilities: CapabilitySet) throws(AllThreadsError) -> BroadcastProgram {
        try Capabilities.requireSupported(capabilities)
        let current = try Capabilities.callerCapabilities()
        let missing = capabilities.subtracting(current.permitted.intersection(current.inheritable))
        guard missing.isEmpty else {
            throw .invalidArgument("ambient capabilities \(missing) are not in the permitted and inheritable sets")
        }
        return ambient(Int(PR_CAP_AMBIENT_RAISE), capabilities)
    }

    /// Lowers these ambient capabilities on every thread, in one broadcast.
    ///
    /// Run it with ``Broadcast/run(_:options:)``.
    ///
    /// - Parameters:
    ///   - capabilities: the capabilities.
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` for an argument that cannot work; nothing
    ///   runs.
    public static func lowerAmbient(_ capabilities: CapabilitySet) throws(AllThreadsError) -> BroadcastProgram {
        try Capabilities.requireSupported(capabilities)
        return ambient(Int(PR_CAP_AMBIENT_LOWER), capabilities)
    }

    /// A `PR_CAP_AMBIENT` step per capability, unchecked.
    static func ambient(_ op: Int, _ capabilities: CapabilitySet) -> BroadcastProgram {
        BroadcastProgram(capabilities.map { BroadcastStep(.prctl, Int(PR_CAP_AMBIENT), op, Int($0.rawValue), 0, 0) })
    }

    /// Clears every thread's ambient set.
    ///
    /// Run it with ``Broadcast/run(_:options:)``.
    public static func clearAmbient() -> BroadcastProgram {
        BroadcastProgram([BroadcastStep(.prctl, Int(PR_CAP_AMBIENT), Int(PR_CAP_AMBIENT_CLEAR_ALL), 0, 0, 0)])
    }

    /// Sets every thread's securebits (`PR_SET_SECUREBITS`). Needs `CAP_SETPCAP`;
    /// a bit whose lock is set can no longer change.
    ///
    /// Run it with ``Broadcast/run(_:options:)``.
    ///
    /// - Parameters:
    ///   - bits: the securebits flags to set.
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` for an argument that cannot work; nothing
    ///   runs.
    public static func setSecurebits(_ bits: Securebits) throws(AllThreadsError) -> BroadcastProgram {
        guard Securebits.all.isSuperset(of: bits) else { throw .invalidArgument("unknown securebits \(bits.rawValue)") }
        return BroadcastProgram([BroadcastStep(.prctl, Int(PR_SET_SECUREBITS), Int(bits.rawValue))])
    }

    /// Sets or clears `PR_SET_KEEPCAPS` on every thread: whether the permitted set
    /// survives a change of all uids away from 0.
    ///
    /// Run it with ``Broadcast/run(_:options:)``.
    ///
    /// - Parameters:
    ///   - keep: whether capabilities survive a change of uid from 0 (`PR_SET_KEEPCAPS`).
    public static func setKeepCapabilities(_ keep: Bool) -> BroadcastProgram {
        BroadcastProgram([BroadcastStep(.prctl, Int(PR_SET_KEEPCAPS), keep ? 1 : 0)])
    }
}
