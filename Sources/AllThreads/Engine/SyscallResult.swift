import SystemPackage

/// The raw result of a system call: a value, or an `Errno`.
public struct SyscallResult: Sendable, Hashable, CustomStringConvertible {
    /// The kernel's return value: non-negative on success, `-errno` on failure.
    public var rawValue: Int

    /// Wraps the kernel's raw return value.
    ///
    /// - Parameters:
    ///   - rawValue: the raw value.
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// The result of a call that failed with `errno`, as the kernel returns it (`-errno`).
    ///
    /// - Parameters:
    ///   - errno: the error.
    public static func failure(_ errno: Errno) -> SyscallResult {
        SyscallResult(rawValue: -Int(errno.rawValue))
    }

    /// The error, when the call failed.
    public var errno: Errno? { (-4095 ... -1).contains(rawValue) ? Errno(rawValue: CInt(-rawValue)) : nil }

    /// The text that names it in messages and logs.
    public var description: String { errno.map { "\($0)" } ?? "\(rawValue)" }
}
