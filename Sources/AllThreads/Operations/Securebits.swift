import CBroadcast

/// The securebits flags (`PR_SET_SECUREBITS`), each with its lock.
public struct Securebits: OptionSet, Sendable, Hashable {
    /// The raw flags.
    public var rawValue: UInt32
    /// Wraps raw flags.
    ///
    /// - Parameters:
    ///   - rawValue: the raw value.
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
