/// Landlock scopes (`LANDLOCK_SCOPE_*`, ABI 6): IPC that a sandboxed thread may no longer
/// direct at anything outside its Landlock domain.
///
/// Below ABI 8 every thread enforces the ruleset itself, so each thread that existed when the
/// sandbox was applied has a domain of its own (see ``Sandbox``); a thread started later shares
/// its creator's. With ``abstractUnixSocket``, a thread cannot connect to an abstract socket that
/// a sibling bound in its own domain (`EPERM`, Linux 6.18), but can to one bound in its own
/// domain (by a thread it started afterwards). Signals between threads of one process stay allowed, so later
/// broadcasts still reach every thread after ``signal``.
public struct LandlockScope: OptionSet, Sendable, Hashable, CustomStringConvertible {
    /// The `LANDLOCK_SCOPE_*` bits.
    public var rawValue: UInt64

    /// The scopes of these bits.
    ///
    /// - Parameters:
    ///   - rawValue: the raw value.
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Connecting or sending to an abstract UNIX socket created outside the domain.
    public static let abstractUnixSocket = Self(rawValue: 1 << 0)
    /// Sending a signal to a process or thread outside the domain.
    public static let signal = Self(rawValue: 1 << 1)
    /// Both scopes.
    public static let all: Self = [.abstractUnixSocket, .signal]

    /// The Landlock ABI that introduced scopes.
    public static let minimumABI = 6

    /// The scopes' names (`abstract_unix_socket`, `signal`).
    public var names: [String] {
        var names: [String] = []
        if contains(.abstractUnixSocket) { names.append("abstract_unix_socket") }
        if contains(.signal) { names.append("signal") }
        if !subtracting(.all).isEmpty { names.append("unknown bits 0x\(String(subtracting(.all).rawValue, radix: 16))") }
        return names
    }

    /// The text that names it in messages and logs.
    public var description: String { names.isEmpty ? "none" : names.joined(separator: ",") }
}
