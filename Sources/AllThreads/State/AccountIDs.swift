import Glibc
import SystemPackage

/// A user account from the password database, as a privilege drop needs it.
public struct Account: Sendable, Hashable {
    /// The login name.
    public var name: String
    /// The user id.
    public var uid: UserID
    /// The primary group.
    public var gid: GroupID
    /// Every group the account belongs to (`getgrouplist`), the primary group included.
    public var groups: [GroupID]

    /// Looks an account up by name or numeric id. An id without an entry in the
    /// password database is rejected: a drop to it could not name its groups.
    ///
    /// - Parameters:
    ///   - text: a decimal id.
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` naming what is wrong; nothing changes.
    public static func lookUp(_ text: String) throws(AllThreadsError) -> Account {
        if let number = Int(text) {
            return try user(id: try userID(validating: number))
        }
        return try user(named: text)
    }

    /// Looks a user up by name (`getpwnam_r`).
    ///
    /// - Parameters:
    ///   - name: the name in the database.
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` naming what is wrong; nothing changes.
    public static func user(named name: String) throws(AllThreadsError) -> Account {
        try withPasswd(name.isEmpty ? nil : { getpwnam_r(name, $0, $1, $2, $3) }, missing: "unknown user '\(name)'")
    }

    /// Looks a user up by id (`getpwuid_r`).
    ///
    /// - Parameters:
    ///   - id: the numeric user id.
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` naming what is wrong; nothing changes.
    public static func user(id: UserID) throws(AllThreadsError) -> Account {
        try withPasswd({ getpwuid_r(id.rawValue, $0, $1, $2, $3) }, missing: "user id \(id.rawValue) has no entry in the password database")
    }

    /// A user id from a user name (`nobody`) or a decimal id (`65534`), validated: an id must not
    /// be `-1` (which the kernel reads as "unchanged") and must be mapped in this process's user
    /// namespace (`/proc/self/uid_map`). Unlike ``lookUp(_:)``, an id needs no entry in the
    /// password database.
    ///
    /// A function of ``Account`` rather than a member of swift-system's `UserID`, which this
    /// package does not own.
    ///
    /// - Parameters:
    ///   - text: a user name or a decimal id.
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` naming what is wrong; nothing changes.
    public static func userID(parsing text: String) throws(AllThreadsError) -> UserID {
        if let number = Int(text) { return try userID(validating: number) }
        return try user(named: text).uid
    }

    /// A group id from a group name (`nogroup`, `getgrnam_r`) or a decimal id (`65534`),
    /// validated as ``userID(parsing:)`` (against `/proc/self/gid_map`).
    ///
    /// - Parameters:
    ///   - text: a group name or a decimal id.
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` naming what is wrong; nothing changes.
    public static func groupID(parsing text: String) throws(AllThreadsError) -> GroupID {
        if let number = Int(text) { return try groupID(validating: number) }
        var entry = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 16384)
        let status = getgrnam_r(text, &entry, &buffer, buffer.count, &result)
        guard status == 0, result != nil else { throw .invalidArgument("unknown group '\(text)'") }
        return try groupID(validating: Int(entry.gr_gid))
    }

    /// A numeric user id, validated: not negative, not `-1` (which the kernel reads as
    /// "unchanged"), and mapped in this process's user namespace (`/proc/self/uid_map`).
    package static func userID(validating value: Int) throws(AllThreadsError) -> UserID {
        UserID(rawValue: try AccountKind.user.validate(value))
    }

    /// A numeric group id, validated as ``userID(validating:)`` (against `/proc/self/gid_map`).
    package static func groupID(validating value: Int) throws(AllThreadsError) -> GroupID {
        GroupID(rawValue: try AccountKind.group.validate(value))
    }

    private typealias Lookup = (UnsafeMutablePointer<passwd>, UnsafeMutablePointer<CChar>, Int, UnsafeMutablePointer<UnsafeMutablePointer<passwd>?>) -> Int32

    private static func withPasswd(_ lookup: Lookup?, missing: String) throws(AllThreadsError) -> Account {
        guard let lookup else { throw .invalidArgument("an empty user name") }
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16384)
        let status = lookup(&entry, &buffer, buffer.count, &result)
        guard status == 0, result != nil else { throw .invalidArgument(missing) }
        let name = String(cString: entry.pw_name)
        let uid = try userID(validating: Int(entry.pw_uid))
        let gid = try groupID(validating: Int(entry.pw_gid))
        return Account(name: name, uid: uid, gid: gid, groups: try groupList(name: name, primary: gid))
    }

    private static func groupList(name: String, primary: GroupID) throws(AllThreadsError) -> [GroupID] {
        var count: Int32 = 64
        var groups = [gid_t](repeating: 0, count: Int(count))
        while getgrouplist(name, primary.rawValue, &groups, &count) < 0 {
            groups = [gid_t](repeating: 0, count: Int(count))
        }
        var unique: [gid_t] = []
        for gid in groups.prefix(Int(count)) where !unique.contains(gid) { unique.append(gid) }
        return try AccountKind.group.validate(unique).map(GroupID.init(rawValue:))
    }
}

/// Which id map an id is checked against.
enum AccountKind {
    case user, group

    var noun: String { self == .user ? "user id" : "group id" }
    var mapPath: String { self == .user ? "/proc/self/uid_map" : "/proc/self/gid_map" }

    /// Checks an id given as a typed value (which may hold `-1`).
    func validate(_ id: UInt32) throws(AllThreadsError) -> UInt32 { try validate(Int(id)) }

    /// Checks a list of ids, reading the id map once (a group list may hold 65536).
    func validate(_ ids: [UInt32]) throws(AllThreadsError) -> [UInt32] {
        let ranges = IDMap.read(mapPath)
        var valid: [UInt32] = []
        valid.reserveCapacity(ids.count)
        for id in ids { valid.append(try validate(Int(id), mapped: ranges)) }
        return valid
    }

    /// Checks `value` against the kernel's rules and this user namespace's map
    /// (`mapped`, read from /proc when not given).
    func validate(_ value: Int, mapped: [Range<UInt64>]? = nil) throws(AllThreadsError) -> UInt32 {
        if value == -1 || value == Int(UInt32.max) {
            throw .invalidArgument("\(noun) \(value) means 'leave unchanged' to the kernel and cannot be set")
        }
        guard value >= 0 else { throw .invalidArgument("\(noun) \(value) is negative") }
        guard value < Int(UInt32.max) else {
            throw .invalidArgument("\(noun) \(value) is above the kernel's largest id, \(UInt32.max - 1)")
        }
        let ranges = mapped ?? IDMap.read(mapPath)
        guard ranges.isEmpty || ranges.contains(where: { $0.contains(UInt64(value)) }) else {
            throw .invalidArgument("\(noun) \(value) is not mapped in this user namespace (\(mapPath))")
        }
        return UInt32(value)
    }
}

/// The ranges of `/proc/self/uid_map` or `gid_map` (ids inside this namespace).
enum IDMap {
    static func read(_ path: String) -> [Range<UInt64>] {
        guard let bytes = try? Procfs.read(path) else { return [] }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count == 3, let first = UInt64(fields[0]), let count = UInt64(fields[2]) else { return nil }
            return first..<(first + count)
        }
    }
}
