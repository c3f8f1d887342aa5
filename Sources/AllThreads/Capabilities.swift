import CBroadcast

/// Capability sets, the bounding set, ambient capabilities, securebits and
/// keep-caps, changed on every thread. Every capability must be supported by the
/// running kernel (``Capability/lastSupported``).
public enum Capabilities {
    /// Sets the effective, permitted and inheritable sets of every thread (`capset`).
    /// The effective set must be part of the permitted set.
    @discardableResult
    public static func set(
        effective: CapabilitySet, permitted: CapabilitySet, inheritable: CapabilitySet,
        options: BroadcastOptions = BroadcastOptions()
    ) throws(AllThreadsError) -> BroadcastReport {
        try requireSupported(effective.union(permitted).union(inheritable))
        guard effective.isSubset(of: permitted) else {
            throw .invalidArgument("effective capabilities \(effective.subtracting(permitted)) are not in the permitted set")
        }
        var header = (UInt32(_LINUX_CAPABILITY_VERSION_3), Int32(0))
        var data = (
            halves(effective.rawValue, permitted.rawValue, inheritable.rawValue, high: false),
            halves(effective.rawValue, permitted.rawValue, inheritable.rawValue, high: true)
        )
        return try withUnsafeMutablePointer(to: &header) { h throws(AllThreadsError) in
            try withUnsafeMutablePointer(to: &data) { d throws(AllThreadsError) in
                try Broadcast.syscall(.capset, Int(bitPattern: h), Int(bitPattern: d), options: options)
            }
        }
    }

    /// Drops these capabilities from every thread's bounding set (`PR_CAPBSET_DROP`),
    /// one broadcast per capability. Needs `CAP_SETPCAP`.
    @discardableResult
    public static func dropFromBoundingSet(_ capabilities: CapabilitySet, options: BroadcastOptions = BroadcastOptions()) throws(AllThreadsError) -> [BroadcastReport] {
        try requireSupported(capabilities)
        var reports: [BroadcastReport] = []
        for capability in capabilities {
            reports.append(try Broadcast.syscall(.prctl, Int(PR_CAPBSET_DROP), Int(capability.rawValue), options: options))
        }
        return reports
    }

    /// Raises these ambient capabilities on every thread. Each must already be in the
    /// caller's permitted and inheritable sets (checked first, from /proc).
    @discardableResult
    public static func raiseAmbient(_ capabilities: CapabilitySet, options: BroadcastOptions = BroadcastOptions()) throws(AllThreadsError) -> [BroadcastReport] {
        try requireSupported(capabilities)
        let current = try callerCapabilities()
        let missing = capabilities.subtracting(current.permitted.intersection(current.inheritable))
        guard missing.isEmpty else {
            throw .invalidArgument("ambient capabilities \(missing) are not in the permitted and inheritable sets")
        }
        return try ambient(Int(PR_CAP_AMBIENT_RAISE), capabilities, options: options)
    }

    /// Lowers these ambient capabilities on every thread.
    @discardableResult
    public static func lowerAmbient(_ capabilities: CapabilitySet, options: BroadcastOptions = BroadcastOptions()) throws(AllThreadsError) -> [BroadcastReport] {
        try requireSupported(capabilities)
        return try ambient(Int(PR_CAP_AMBIENT_LOWER), capabilities, options: options)
    }

    /// Clears every thread's ambient set.
    @discardableResult
    public static func clearAmbient(options: BroadcastOptions = BroadcastOptions()) throws(AllThreadsError) -> BroadcastReport {
        try Broadcast.syscall(.prctl, Int(PR_CAP_AMBIENT), Int(PR_CAP_AMBIENT_CLEAR_ALL), 0, 0, 0, options: options)
    }

    /// Sets every thread's securebits (`PR_SET_SECUREBITS`). Needs `CAP_SETPCAP`;
    /// a bit whose lock is set can no longer change.
    @discardableResult
    public static func setSecurebits(_ bits: Securebits, options: BroadcastOptions = BroadcastOptions()) throws(AllThreadsError) -> BroadcastReport {
        guard Securebits.all.isSuperset(of: bits) else { throw .invalidArgument("unknown securebits \(bits.rawValue)") }
        return try Broadcast.syscall(.prctl, Int(PR_SET_SECUREBITS), Int(bits.rawValue), options: options)
    }

    /// Sets or clears `PR_SET_KEEPCAPS` on every thread: whether the permitted set
    /// survives a change of all uids away from 0.
    @discardableResult
    public static func setKeepCapabilities(_ keep: Bool, options: BroadcastOptions = BroadcastOptions()) throws(AllThreadsError) -> BroadcastReport {
        try Broadcast.syscall(.prctl, Int(PR_SET_KEEPCAPS), keep ? 1 : 0, options: options)
    }

    private static func ambient(_ op: Int, _ capabilities: CapabilitySet, options: BroadcastOptions) throws(AllThreadsError) -> [BroadcastReport] {
        var reports: [BroadcastReport] = []
        for capability in capabilities {
            reports.append(try Broadcast.syscall(.prctl, Int(PR_CAP_AMBIENT), op, Int(capability.rawValue), 0, 0, options: options))
        }
        return reports
    }

    static func requireSupported(_ capabilities: CapabilitySet) throws(AllThreadsError) {
        let unsupported = capabilities.subtracting(.allSupported)
        guard unsupported.isEmpty else {
            throw .invalidArgument("capabilities \(unsupported) are above the running kernel's last, \(Capability.lastSupported)")
        }
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

    /// One `__user_cap_data_struct` (effective, permitted, inheritable) for bits 0-31 or 32-63.
    private static func halves(_ e: UInt64, _ p: UInt64, _ i: UInt64, high: Bool) -> (UInt32, UInt32, UInt32) {
        let shift: UInt64 = high ? 32 : 0
        return (UInt32(truncatingIfNeeded: e >> shift), UInt32(truncatingIfNeeded: p >> shift), UInt32(truncatingIfNeeded: i >> shift))
    }
}

/// The securebits flags (`PR_SET_SECUREBITS`), each with its lock.
public struct Securebits: OptionSet, Sendable, Hashable {
    /// The raw flags.
    public var rawValue: UInt32
    /// Wraps raw flags.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// uid 0 gets no capabilities from execve.
    public static let noRoot = Securebits(rawValue: 1 << 0)
    /// Locks ``noRoot``.
    public static let noRootLocked = Securebits(rawValue: 1 << 1)
    /// Changing uids to and from 0 does not adjust capabilities.
    public static let noSetuidFixup = Securebits(rawValue: 1 << 2)
    /// Locks ``noSetuidFixup``.
    public static let noSetuidFixupLocked = Securebits(rawValue: 1 << 3)
    /// Like `PR_SET_KEEPCAPS`.
    public static let keepCaps = Securebits(rawValue: 1 << 4)
    /// Locks ``keepCaps``.
    public static let keepCapsLocked = Securebits(rawValue: 1 << 5)
    /// Ambient capabilities can no longer be raised.
    public static let noCapAmbientRaise = Securebits(rawValue: 1 << 6)
    /// Locks ``noCapAmbientRaise``.
    public static let noCapAmbientRaiseLocked = Securebits(rawValue: 1 << 7)
    /// Every flag the kernel defines.
    public static let all = Securebits(rawValue: 0xff)
}
