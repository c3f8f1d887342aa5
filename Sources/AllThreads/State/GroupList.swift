import SystemPackage

extension GroupID {
    /// Parses a comma-separated list of group names or ids (`"1000,wheel"`), each as
    /// ``init(parsing:)`` reads it; the empty text is the empty list (no supplementary groups).
    ///
    /// - Parameters:
    ///   - text: names or ids separated by commas, spaces around them allowed.
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` for an empty item (`"1000,,2000"`), an
    ///   unknown name, or an id ``init(validating:)`` refuses.
    package static func list(parsing text: String) throws(AllThreadsError) -> [GroupID] {
        guard !text.isEmpty else { return [] }
        var groups: [GroupID] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let name = String(item.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
            guard !name.isEmpty else { throw .invalidArgument("empty item in the group list '\(text)'") }
            let group = try Account.groupID(parsing: name)
            if !groups.contains(group) { groups.append(group) }
        }
        return groups
    }
}
