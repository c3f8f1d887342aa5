/// Landlock network rights (`LANDLOCK_ACCESS_NET_*`, ABI 4): what a ``Sandbox`` restricts for TCP,
/// and what one of its port rules grants.
public struct NetworkAccess: OptionSet, Sendable, Hashable, CustomStringConvertible {
    /// The `LANDLOCK_ACCESS_NET_*` bits.
    public var rawValue: UInt64

    /// The rights of these bits.
    ///
    /// - Parameters:
    ///   - rawValue: the raw value.
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Bind a TCP socket to a local port.
    public static let bindTCP = Self(rawValue: 1 << 0)
    /// Connect a TCP socket to a remote port.
    public static let connectTCP = Self(rawValue: 1 << 1)
    /// Both rights.
    public static let all: Self = [.bindTCP, .connectTCP]

    /// The Landlock ABI that introduced network rights.
    public static let minimumABI = 4

    /// The rights' names (`bind_tcp`, `connect_tcp`).
    public var names: [String] {
        var names: [String] = []
        if contains(.bindTCP) { names.append("bind_tcp") }
        if contains(.connectTCP) { names.append("connect_tcp") }
        if !subtracting(.all).isEmpty { names.append("unknown bits 0x\(String(subtracting(.all).rawValue, radix: 16))") }
        return names
    }

    /// The text that names it in messages and logs.
    public var description: String { names.isEmpty ? "none" : names.joined(separator: ",") }
}
