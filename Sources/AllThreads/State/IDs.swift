/// User or group ids of a thread: real, effective, saved, filesystem (the `Uid:`/`Gid:` line).
public struct IDs: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The real id.
    public var real: UInt32
    /// The effective id, used for most permission checks.
    public var effective: UInt32
    /// The saved set-id.
    public var saved: UInt32
    /// The filesystem id, used for file access checks.
    public var filesystem: UInt32

    /// Creates ids from the four values.
    ///
    /// - Parameters:
    ///   - real: the real id.
    ///   - effective: the effective id.
    ///   - saved: the saved id.
    ///   - filesystem: the filesystem id.
    public init(real: UInt32, effective: UInt32, saved: UInt32, filesystem: UInt32) {
        self.real = real
        self.effective = effective
        self.saved = saved
        self.filesystem = filesystem
    }

    /// The four ids in `/proc` order: real, effective, saved, filesystem.
    public var all: [UInt32] { [real, effective, saved, filesystem] }

    /// True when all four equal `id`.
    ///
    /// - Parameters:
    ///   - id: the id to compare with.
    public func all(equal id: UInt32) -> Bool {
        real == id && effective == id && saved == id && filesystem == id
    }

    /// The ids as `real/effective/saved/filesystem`.
    public var description: String { "\(real)/\(effective)/\(saved)/\(filesystem)" }
}
