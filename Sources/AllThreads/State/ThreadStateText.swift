import SystemPackage

extension CapabilitySet {
    /// The mask as `/proc/<pid>/status` writes it: 16 lowercase hexadecimal digits, such as `000001ffffffffff`.
    package var procMask: String {
        let digits = String(rawValue, radix: 16)
        return String(repeating: "0", count: Swift.max(0, 16 - digits.count)) + digits
    }
}

extension ThreadCredentials {
    /// The supplementary groups separated by commas, such as `1000,2000`; `none` when there are none.
    package var groupList: String { Self.groupList(groups) }

    /// Group ids separated by commas, `none` for an empty list.
    package static func groupList(_ groups: [GroupID]) -> String {
        groups.isEmpty ? "none" : groups.map { String($0.rawValue) }.joined(separator: ",")
    }
}

extension SeccompMode: CustomStringConvertible {
    /// `disabled`, `strict` or `filter`.
    public var description: String {
        switch self {
        case .disabled: "disabled"
        case .strict: "strict"
        case .filter: "filter"
        }
    }
}
