import SystemPackage

/// User or group ids of a thread: real, effective, saved, filesystem (the `Uid:`/`Gid:` line):
/// `IDs<UserID>` or `IDs<GroupID>`.
public struct IDs<ID: RawRepresentable & Sendable & Hashable & Codable>: Sendable, Hashable, Codable, CustomStringConvertible
where ID.RawValue == UInt32 {
    /// The real id.
    public var real: ID
    /// The effective id, used for most permission checks.
    public var effective: ID
    /// The saved set-id.
    public var saved: ID
    /// The filesystem id, used for file access checks.
    public var filesystem: ID

    /// Creates ids from the four values.
    ///
    /// - Parameters:
    ///   - real: the real id.
    ///   - effective: the effective id.
    ///   - saved: the saved id.
    ///   - filesystem: the filesystem id.
    public init(real: ID, effective: ID, saved: ID, filesystem: ID) {
        self.real = real
        self.effective = effective
        self.saved = saved
        self.filesystem = filesystem
    }

    /// Four times the same id (what a drop to `id` leaves).
    package init(all id: ID) {
        self.init(real: id, effective: id, saved: id, filesystem: id)
    }

    /// The four ids in `/proc` order: real, effective, saved, filesystem.
    public var all: [ID] { [real, effective, saved, filesystem] }

    /// True when all four equal `id`.
    ///
    /// - Parameters:
    ///   - id: the id to compare with.
    public func all(equal id: ID) -> Bool {
        real == id && effective == id && saved == id && filesystem == id
    }

    /// The ids as `real/effective/saved/filesystem`.
    public var description: String { all.map { String($0.rawValue) }.joined(separator: "/") }
}
