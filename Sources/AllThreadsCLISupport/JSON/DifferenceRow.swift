import AllThreads

/// A differing thread in the CLI's JSON: `tid`, `name` and its `fields` (`field`, `value`,
/// `expected`, and `note` when there is one).
package struct DifferenceRow: Encodable, Sendable {
    /// One differing field.
    package struct Field: Encodable, Sendable {
        /// The `field` value.
        package var field, value, expected: String
        /// The `note` value.
        package var note: String?
    }

    /// The `tid` value.
    package var tid: Int32
    /// The `name` value.
    package var name: String
    /// The `fields` value.
    package var fields: [Field]

    /// The row of `difference`.
    package init(_ difference: ThreadDifference) {
        tid = difference.thread.tid
        name = difference.thread.name
        fields = difference.fields.map {
            Field(field: $0.field, value: $0.value, expected: $0.expected, note: $0.note.isEmpty ? nil : $0.note)
        }
    }
}
