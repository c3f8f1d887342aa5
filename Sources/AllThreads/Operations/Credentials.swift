import Glibc
import SystemPackage

/// The filesystem ids, checked, and the kernel's limit on supplementary groups.
///
/// The kernel keeps user and group ids and supplementary groups per thread; glibc's wrappers
/// broadcast them for glibc's own threads only. Their program forms
/// (``BroadcastProgram/setresuid(real:effective:saved:)``, ``BroadcastProgram/setGroups(_:)``, …)
/// validate their arguments, and ``Broadcast/run(_:options:)`` runs them on every thread; an
/// argument that is `nil` is passed as `-1`, which the kernel reads as "unchanged".
public enum Credentials {
    /// `setfsuid(uid)` on every thread, checked.
    ///
    /// `setfsuid` never reports an error: it returns the previous id whether or not
    /// it changed anything. So every thread must return the same previous id (else
    /// ``AllThreadsError/Code/stepMismatch``), and then, in the same broadcast,
    /// `setfsuid(-1)` (which changes nothing) must return `uid` on every thread; when
    /// the kernel refused silently, this throws `.callFailed(EPERM)`.
    /// - Parameters:
    ///   - uid: the user id.
    ///   - options: deadline, signal, mismatch policy and mode of the broadcast.
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` before any thread changes for an argument
    ///   that cannot work; otherwise the errors of ``Broadcast/run(_:options:)``, each saying which
    ///   threads changed.
    /// - Returns: the previous filesystem user id.
    @discardableResult
    public static func setfsuid(_ uid: UserID, options: BroadcastOptions = BroadcastOptions()) throws(AllThreadsError) -> UInt32 {
        try setFilesystemID(.setfsuid(uid), options: options)
    }

    /// `setfsgid(gid)` on every thread, checked like ``setfsuid(_:options:)``.
    /// - Parameters:
    ///   - gid: the group id.
    ///   - options: deadline, signal, mismatch policy and mode of the broadcast.
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` before any thread changes for an argument
    ///   that cannot work; otherwise the errors of ``Broadcast/run(_:options:)``, each saying which
    ///   threads changed.
    /// - Returns: the previous filesystem group id.
    @discardableResult
    public static func setfsgid(_ gid: GroupID, options: BroadcastOptions = BroadcastOptions()) throws(AllThreadsError) -> UInt32 {
        try setFilesystemID(.setfsgid(gid), options: options)
    }

    private static func setFilesystemID(_ program: BroadcastProgram, options: BroadcastOptions) throws(AllThreadsError) -> UInt32 {
        do {
            return UInt32(truncatingIfNeeded: try Broadcast.run(program, options: options).stepResults[0].rawValue)
        } catch  where error.stepFailure?.step == 1 {
            throw .callFailed(.notPermitted)  // the kernel refused silently: the id did not change
        }
    }

    /// The kernel's `NGROUPS_MAX` (`/proc/sys/kernel/ngroups_max`, 65536 if unreadable).
    public static var maxGroups: Int {
        guard let bytes = try? Procfs.read("/proc/sys/kernel/ngroups_max"),
            let value = Int(String(decoding: bytes, as: UTF8.self).trimmingNewline)
        else { return 65536 }
        return value
    }

    /// A validated id for the kernel, or -1 ("unchanged") for nil.
    static func raw(_ id: UserID?) throws(AllThreadsError) -> Int {
        guard let id else { return -1 }
        return Int(try AccountKind.user.validate(id.rawValue))
    }

    /// A validated id for the kernel, or -1 ("unchanged") for nil.
    static func raw(_ id: GroupID?) throws(AllThreadsError) -> Int {
        guard let id else { return -1 }
        return Int(try AccountKind.group.validate(id.rawValue))
    }
}

extension BroadcastProgram {
    /// `setuid(uid)` on every thread.
    ///
    /// Run it with ``Broadcast/run(_:options:)``.
    ///
    /// - Parameters:
    ///   - uid: the user id.
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` for an argument that cannot work; nothing
    ///   runs.
    public static func setuid(_ uid: UserID) throws(AllThreadsError) -> BroadcastProgram {
        BroadcastProgram([BroadcastStep(.setuid, try Credentials.raw(uid))])
    }

    /// `setgid(gid)` on every thread.
    ///
    /// Run it with ``Broadcast/run(_:options:)``.
    ///
    /// - Parameters:
    ///   - gid: the group id.
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` for an argument that cannot work; nothing
    ///   runs.
    public static func setgid(_ gid: GroupID) throws(AllThreadsError) -> BroadcastProgram {
        BroadcastProgram([BroadcastStep(.setgid, try Credentials.raw(gid))])
    }

    /// `setreuid(real, effective)` on every thread.
    ///
    /// Run it with ``Broadcast/run(_:options:)``.
    ///
    /// - Parameters:
    ///   - real: the real id; `nil` leaves it unchanged.
    ///   - effective: the effective id; `nil` leaves it unchanged.
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` for an argument that cannot work; nothing
    ///   runs.
    public static func setreuid(real: UserID?, effective: UserID?) throws(AllThreadsError) -> BroadcastProgram {
        BroadcastProgram([BroadcastStep(.setreuid, try Credentials.raw(real), try Credentials.raw(effective))])
    }

    /// `setregid(real, effective)` on every thread.
    ///
    /// Run it with ``Broadcast/run(_:options:)``.
    ///
    /// - Parameters:
    ///   - real: the real id; `nil` leaves it unchanged.
    ///   - effective: the effective id; `nil` leaves it unchanged.
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` for an argument that cannot work; nothing
    ///   runs.
    public static func setregid(real: GroupID?, effective: GroupID?) throws(AllThreadsError) -> BroadcastProgram {
        BroadcastProgram([BroadcastStep(.setregid, try Credentials.raw(real), try Credentials.raw(effective))])
    }

    /// `setresuid(real, effective, saved)` on every thread.
    ///
    /// Run it with ``Broadcast/run(_:options:)``.
    ///
    /// - Parameters:
    ///   - real: the real id; `nil` leaves it unchanged.
    ///   - effective: the effective id; `nil` leaves it unchanged.
    ///   - saved: the saved id; `nil` leaves it unchanged.
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` for an argument that cannot work; nothing
    ///   runs.
    public static func setresuid(real: UserID?, effective: UserID?, saved: UserID?) throws(AllThreadsError) -> BroadcastProgram {
        BroadcastProgram([BroadcastStep(.setresuid, try Credentials.raw(real), try Credentials.raw(effective), try Credentials.raw(saved))])
    }

    /// `setresgid(real, effective, saved)` on every thread.
    ///
    /// Run it with ``Broadcast/run(_:options:)``.
    ///
    /// - Parameters:
    ///   - real: the real id; `nil` leaves it unchanged.
    ///   - effective: the effective id; `nil` leaves it unchanged.
    ///   - saved: the saved id; `nil` leaves it unchanged.
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` for an argument that cannot work; nothing
    ///   runs.
    public static func setresgid(real: GroupID?, effective: GroupID?, saved: GroupID?) throws(AllThreadsError) -> BroadcastProgram {
        BroadcastProgram([BroadcastStep(.setresgid, try Credentials.raw(real), try Credentials.raw(effective), try Credentials.raw(saved))])
    }

    /// `setgroups` with these supplementary groups on every thread.
    ///
    /// The list must not be empty (say ``clearGroups()`` to drop them all, as
    /// `setpriv --clear-groups` does) nor longer than the kernel's `NGROUPS_MAX`.
    ///
    /// Validated the same way.
    ///
    /// Run it with ``Broadcast/run(_:options:)``.
    ///
    /// - Parameters:
    ///   - groups: the supplementary groups; not empty, at most `NGROUPS_MAX`.
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` for an argument that cannot work; nothing
    ///   runs.
    public static func setGroups(_ groups: [GroupID]) throws(AllThreadsError) -> BroadcastProgram {
        guard !groups.isEmpty else {
            throw .invalidArgument("the group list is empty; use clearGroups to drop every supplementary group")
        }
        let limit = Credentials.maxGroups
        guard groups.count <= limit else {
            throw .invalidArgument("\(groups.count) groups is more than the kernel's NGROUPS_MAX (\(limit))")
        }
        let ids = try AccountKind.group.validate(groups.map(\.rawValue))
        let bytes = ids.withUnsafeBytes { Array($0) }
        return BroadcastProgram([BroadcastStep(.setgroups, arguments: [.value(ids.count), .bytes(bytes)])])
    }

    /// Drops every supplementary group on every thread (`setgroups(0, NULL)`).
    ///
    /// Run it with ``Broadcast/run(_:options:)``.
    public static func clearGroups() -> BroadcastProgram {
        BroadcastProgram([BroadcastStep(.setgroups, 0, 0)])
    }

    /// The program form of ``Credentials/setfsuid(_:options:)``: the call, then `setfsuid(-1)`
    /// expecting `uid` (the kernel never reports that it refused).
    ///
    /// - Parameters:
    ///   - uid: the user id.
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` for an argument that cannot work; nothing
    ///   runs.
    public static func setfsuid(_ uid: UserID) throws(AllThreadsError) -> BroadcastProgram {
        filesystemID(.setfsuid, Int(try AccountKind.user.validate(uid.rawValue)))
    }

    /// The program form of ``Credentials/setfsgid(_:options:)``, checked like ``setfsuid(_:)``.
    ///
    /// - Parameters:
    ///   - gid: the group id.
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` for an argument that cannot work; nothing
    ///   runs.
    public static func setfsgid(_ gid: GroupID) throws(AllThreadsError) -> BroadcastProgram {
        filesystemID(.setfsgid, Int(try AccountKind.group.validate(gid.rawValue)))
    }

    private static func filesystemID(_ call: SystemCall, _ id: Int) -> BroadcastProgram {
        BroadcastProgram([BroadcastStep(call, id), BroadcastStep(call, -1, expecting: .result(SyscallResult(rawValue: id)))])
    }
}

extension String {
    /// The text without one trailing newline, as /proc files end.
    var trimmingNewline: Substring { hasSuffix("\n") ? dropLast() : self[...] }
}
