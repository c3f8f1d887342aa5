/// One field in which a thread is not what it should be: its value and the expected one.
public struct FieldDifference: Sendable, Hashable, CustomStringConvertible {
    /// The field, named as `/proc` names it: `uid`, `gid`, `groups`, `CapEff`, `no_new_privs`, `seccomp`,
    /// `timer_slack_ns`, `nice`, `cpus_allowed`, `keepcaps`.
    public var field: String
    /// The thread's value.
    public var value: String
    /// The value the thread should have (the reference thread's, or what the change sets).
    public var expected: String
    /// Details, such as the capabilities a set lacks; empty when there are none.
    public var note: String

    /// Describes a difference.
    ///
    /// - Parameters:
    ///   - field: the field's name as `/proc` spells it (`uid`, `CapEff`, ...).
    ///   - value: the thread's value.
    ///   - expected: the value expected.
    ///   - note: what the difference means, or empty.
    package init(field: String, value: String, expected: String, note: String = "") {
        self.field = field
        self.value = value
        self.expected = expected
        self.note = note
    }

    /// Such as `uid 0/0/0/0, expected 65534/65534/65534/65534`.
    public var description: String {
        "\(field) \(value), expected \(expected)" + (note.isEmpty ? "" : " (\(note))")
    }

    /// The difference between two capability sets named `field` (`CapEff`, ...), or nil when they are equal.
    package static func capabilities(_ field: String, _ value: CapabilitySet, expected: CapabilitySet) -> FieldDifference? {
        guard value != expected else { return nil }
        var notes: [String] = []
        let missing = expected.subtracting(value), extra = value.subtracting(expected)
        if !missing.isEmpty { notes.append("lacks \(brief(missing))") }
        if !extra.isEmpty { notes.append("also has \(brief(extra))") }
        return FieldDifference(field: field, value: value.procMask, expected: expected.procMask, note: notes.joined(separator: "; "))
    }

    /// The names of up to ``briefLimit`` capabilities, else how many there are.
    package static func brief(_ set: CapabilitySet) -> String {
        set.count <= briefLimit ? set.description : "\(set.count) capabilities"
    }

    /// The most capabilities a note names.
    static let briefLimit = 4

    /// A difference when `value != expected`, with both written by `text`.
    static func compare<T: Equatable>(_ field: String, _ value: T, _ expected: T, _ text: (T) -> String) -> FieldDifference? {
        value == expected ? nil : FieldDifference(field: field, value: text(value), expected: text(expected))
    }
}
