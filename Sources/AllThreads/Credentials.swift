import Glibc
import SystemPackage

/// User and group ids and supplementary groups, changed on every thread.
///
/// The kernel keeps these per thread; glibc's wrappers broadcast them for
/// glibc's own threads only. Each function here validates its arguments, then
/// runs the raw system call on every thread through ``Broadcast``; an argument
/// that is `nil` is passed as `-1`, which the kernel reads as "unchanged".
public enum Credentials {
    /// `setuid(uid)` on every thread.
    @discardableResult
    public static func setuid(_ uid: UserID, options: BroadcastOptions = BroadcastOptions()) throws(AllThreadsError) -> BroadcastReport {
        try Broadcast.syscall(.setuid, try raw(uid), options: options)
    }

    /// `setgid(gid)` on every thread.
    @discardableResult
    public static func setgid(_ gid: GroupID, options: BroadcastOptions = BroadcastOptions()) throws(AllThreadsError) -> BroadcastReport {
        try Broadcast.syscall(.setgid, try raw(gid), options: options)
    }

    /// `setreuid(real, effective)` on every thread.
    @discardableResult
    public static func setreuid(real: UserID?, effective: UserID?, options: BroadcastOptions = BroadcastOptions()) throws(AllThreadsError) -> BroadcastReport {
        try Broadcast.syscall(.setreuid, try raw(real), try raw(effective), options: options)
    }

    /// `setregid(real, effective)` on every thread.
    @discardableResult
    public static func setregid(real: GroupID?, effective: GroupID?, options: BroadcastOptions = BroadcastOptions()) throws(AllThreadsError) -> BroadcastReport {
        try Broadcast.syscall(.setregid, try raw(real), try raw(effective), options: options)
    }

    /// `setresuid(real, effective, saved)` on every thread.
    @discardableResult
    public static func setresuid(real: UserID?, effective: UserID?, saved: UserID?, options: BroadcastOptions = BroadcastOptions()) throws(AllThreadsError) -> BroadcastReport {
        try Broadcast.syscall(.setresuid, try raw(real), try raw(effective), try raw(saved), options: options)
    }

    /// `setresgid(real, effective, saved)` on every thread.
    @discardableResult
    public static func setresgid(real: GroupID?, effective: GroupID?, saved: GroupID?, options: BroadcastOptions = BroadcastOptions()) throws(AllThreadsError) -> BroadcastReport {
        try Broadcast.syscall(.setresgid, try raw(real), try raw(effective), try raw(saved), options: options)
    }

    /// `setgroups` with these supplementary groups on every thread.
    ///
    /// The list must not be empty (say ``clearGroups(options:)`` to drop them all, as
    /// `setpriv --clear-groups` does) nor longer than the kernel's `NGROUPS_MAX`.
    @discardableResult
    public static func setGroups(_ groups: [GroupID], options: BroadcastOptions = BroadcastOptions()) throws(AllThreadsError) -> BroadcastReport {
        guard !groups.isEmpty else {
            throw .invalidArgument("the group list is empty; use clearGroups to drop every supplementary group")
        }
        let limit = maxGroups
        guard groups.count <= limit else {
            throw .invalidArgument("\(groups.count) groups is more than the kernel's NGROUPS_MAX (\(limit))")
        }
        let ids = try AccountKind.group.validate(groups.map(\.rawValue))
        return try ids.withUnsafeBufferPointer { buffer throws(AllThreadsError) in
            try Broadcast.syscall(.setgroups, buffer.count, Int(bitPattern: buffer.baseAddress), options: options)
        }
    }

    /// Drops every supplementary group on every thread (`setgroups(0, NULL)`).
    @discardableResult
    public static func clearGroups(options: BroadcastOptions = BroadcastOptions()) throws(AllThreadsError) -> BroadcastReport {
        try Broadcast.syscall(.setgroups, 0, 0, options: options)
    }

    /// `setfsuid(uid)` on every thread, checked.
    ///
    /// `setfsuid` never reports an error: it returns the previous id whether or not
    /// it changed anything. So every thread must return the same previous id (else
    /// ``AllThreadsError/mismatch(caller:threads:)``), and afterwards a probe
    /// (`setfsuid(-1)`, which changes nothing) must find `uid` on every thread; when
    /// the kernel refused silently everywhere, this throws `.callFailed(EPERM)`.
    /// - Returns: the previous filesystem user id.
    @discardableResult
    public static func setfsuid(_ uid: UserID, options: BroadcastOptions = BroadcastOptions()) throws(AllThreadsError) -> UInt32 {
        try setFilesystemID(.setfsuid, try AccountKind.user.validate(uid.rawValue), options: options)
    }

    /// `setfsgid(gid)` on every thread, checked like ``setfsuid(_:options:)``.
    /// - Returns: the previous filesystem group id.
    @discardableResult
    public static func setfsgid(_ gid: GroupID, options: BroadcastOptions = BroadcastOptions()) throws(AllThreadsError) -> UInt32 {
        try setFilesystemID(.setfsgid, try AccountKind.group.validate(gid.rawValue), options: options)
    }

    private static func setFilesystemID(_ call: SystemCall, _ id: UInt32, options: BroadcastOptions) throws(AllThreadsError) -> UInt32 {
        let previous = try Broadcast.syscall(call, Int(id), options: options).result
        let now = try Broadcast.probe(call, -1, options: options).rawValue
        guard now == Int(id) else {
            if now == previous { throw .callFailed(.notPermitted) }
            throw .invalidArgument("\(call) left the id at \(now), not \(id)")
        }
        return UInt32(truncatingIfNeeded: previous)
    }

    /// The kernel's `NGROUPS_MAX` (`/proc/sys/kernel/ngroups_max`, 65536 if unreadable).
    public static var maxGroups: Int {
        guard let bytes = try? Procfs.read("/proc/sys/kernel/ngroups_max"),
              let value = Int(String(decoding: bytes, as: UTF8.self).trimmingNewline) else { return 65536 }
        return value
    }

    /// A validated id for the kernel, or -1 ("unchanged") for nil.
    private static func raw(_ id: UserID?) throws(AllThreadsError) -> Int {
        guard let id else { return -1 }
        return Int(try AccountKind.user.validate(id.rawValue))
    }

    /// A validated id for the kernel, or -1 ("unchanged") for nil.
    private static func raw(_ id: GroupID?) throws(AllThreadsError) -> Int {
        guard let id else { return -1 }
        return Int(try AccountKind.group.validate(id.rawValue))
    }
}

extension String {
    /// The text without one trailing newline, as /proc files end.
    var trimmingNewline: Substring { hasSuffix("\n") ? dropLast() : self[...] }
}
