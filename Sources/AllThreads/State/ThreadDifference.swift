/// A thread that differs from what it should be, and every field in which it differs.
public struct ThreadDifference: Sendable, Hashable, CustomStringConvertible {
    /// The thread.
    public var thread: ThreadIdentity
    /// The fields that differ; never empty.
    public var fields: [FieldDifference]

    /// Describes a differing thread.
    ///
    /// - Parameters:
    ///   - thread: the thread.
    ///   - fields: each field that differs.
    package init(thread: ThreadIdentity, fields: [FieldDifference]) {
        self.thread = thread
        self.fields = fields
    }

    /// Such as `tid 812 (wl-thread): uid 0/0/0/0, expected 65534/65534/65534/65534`.
    public var description: String {
        "\(thread): " + fields.map(\.description).joined(separator: ", ")
    }
}
