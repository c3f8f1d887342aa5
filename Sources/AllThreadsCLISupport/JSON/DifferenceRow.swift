import AllThreads

/// A differing thread in the CLI's JSON: `tid`, `name` and its `fields` (`field`, `value`,
/// `expected`, and `note` when there is one).
public struct DifferenceRow: Encodable, Sendable {
    /// One differing field.
    public struct Field: Encodable, Sendable {
        /// The `field` value.
        public var field, value, expected: String
        /// The `note` value.
        public var note: String?
    }

    /// The `tid` value.
    public var tid: Int32
    /// The `name` value.
    public var name: String
    /// The `fields` value.
    public var fields: [Field]

    /// The row of `difference`.
    public init(_ difference: ThreadDifference) {
        tid = difference.thread.tid
        name = difference.thread.name
        fields = difference.fields.map {
            Field(field: $0.field, value: $0.value, expected: $0.expected, note: $0.note.isEmpty ? nil : $0.note)
        }
    }
}
