import AllThreads
import CBroadcast
import Glibc
import SystemPackage

/// One change to every thread of the calling process, as a value: resolved and validated
/// first, then applied with ``apply(options:)`` and proven with ``verify(options:)``.
///
/// ```swift
/// let nobody = UserID(rawValue: 65534)
/// let change = ThreadChange.setresuid(real: nobody, effective: nobody, saved: nobody)
/// let record = change.apply()
/// if let error = record.error { throw error }
/// let comparison = try change.verify()
/// precondition(comparison.agree)
/// ```
package enum ThreadChange: Sendable, Hashable, CustomStringConvertible {
    /// `setuid(uid)` (``BroadcastProgram/setuid(_:)``).
    case setuid(UserID)
    /// `setgid(gid)` (``BroadcastProgram/setgid(_:)``).
    case setgid(GroupID)
    /// `setresuid(real, effective, saved)`.
    case setresuid(real: UserID, effective: UserID, saved: UserID)
    /// `setresgid(real, effective, saved)`.
    case setresgid(real: GroupID, effective: GroupID, saved: GroupID)
    /// `setgroups` with these supplementary groups; an empty list drops them all.
    case setGroups([GroupID])
    /// `PR_SET_NO_NEW_PRIVS`.
    case noNewPrivileges
    /// `PR_SET_KEEPCAPS` on or off.
    case keepCapabilities(Bool)
    /// `PR_CAPBSET_DROP` of each capability.
    case dropFromBoundingSet(CapabilitySet)
    /// `PR_SET_TIMERSLACK`, in nanoseconds.
    case timerSlack(nanoseconds: Int)
    /// `capset` with these effective, permitted and inheritable sets.
    case setCapabilities(effective: CapabilitySet, permitted: CapabilitySet, inheritable: CapabilitySet)
    /// `capset` without these capabilities (``Capabilities/drop(_:options:)``).
    case dropCapabilities(CapabilitySet)
    /// A seccomp filter loaded on every thread at once (``SeccompFilter/loadOnAllThreads()``).
    case seccomp(SeccompFilter)
    /// A privilege drop, proven on every thread (``PrivilegeDrop/apply(options:)``).
    case privilegeDrop(PrivilegeDrop)
    /// A raw system call with up to six arguments.
    case syscall(SystemCall, arguments: [Int])
    /// A ``Sandbox``: no_new_privs and a Landlock domain on every thread, proven in the same stop.
    case sandbox(Sandbox)

    /// The change as a call, such as `setresuid(65534, 65534, 65534)`.
    package var description: String {
        switch self {
        case .setuid(let uid): "setuid(\(uid.rawValue))"
        case .setgid(let gid): "setgid(\(gid.rawValue))"
        case .setresuid(let r, let e, let s): "setresuid(\(r.rawValue), \(e.rawValue), \(s.rawValue))"
        case .setresgid(let r, let e, let s): "setresgid(\(r.rawValue), \(e.rawValue), \(s.rawValue))"
        case .setGroups(let groups): "setgroups(\(Self.list(groups)))"
        case .noNewPrivileges: "prctl(PR_SET_NO_NEW_PRIVS, 1)"
        case .keepCapabilities(let keep): "prctl(PR_SET_KEEPCAPS, \(keep ? 1 : 0))"
        case .dropFromBoundingSet(let set): "prctl(PR_CAPBSET_DROP, \(set))"
        case .timerSlack(let nanoseconds): "prctl(PR_SET_TIMERSLACK, \(nanoseconds))"
        case .setCapabilities(let e, let p, let i): "capset(effective \(e), permitted \(p), inheritable \(i))"
        case .dropCapabilities(let set): "capset(without \(set))"
        case .seccomp(let filter): "seccomp(default \(filter.defaultAction), \(filter.rules.count) rule(s))"
        case .privilegeDrop(let drop):
            "drop to \(drop.user.name) (uid \(drop.user.uid.rawValue), gid \(drop.group.rawValue), groups \(Self.list(drop.groups)), "
                + "keeping \(drop.keepCapabilities)"
                + "\(drop.keepCapabilities.isDisjoint(with: .rootEquivalent) ? "" : " (root-equivalent: \(drop.keepCapabilities.intersection(.rootEquivalent)))")"
                + "\(drop.noNewPrivileges ? ", no_new_privs" : "")\(drop.seccomp == nil ? "" : ", seccomp")"
                + "\(drop.ioUringPolicy == .accept ? ", accepting io_uring rings" : ""))"
        case .syscall(let call, let arguments): "\(call)(\(arguments.map(String.init).joined(separator: ", ")))"
        case .sandbox(let sandbox):
            "sandbox(\(sandbox.paths.count) path rule(s), \(sandbox.ports.count) port rule(s)"
                + "\(sandbox.credentials.map { ", " + ThreadChange.privilegeDrop($0).description } ?? ""))"
        }
    }

    /// Group ids separated by commas, `none` for an empty list.
    private static func list(_ groups: [GroupID]) -> String { ThreadCredentials.groupList(groups) }

    /// What the change makes equal on every thread, and so what ``verify(options:)`` compares.
    package var aspects: ThreadAspects {
        switch self {
        case .timerSlack: return [.credentials, .timerSlack]
        case .syscall(let call, let arguments):
            if call == .prctl, arguments.first == Int(PR_SET_TIMERSLACK) { return [.credentials, .timerSlack] }
            if call == .setpriority { return [.credentials, .nice] }
            if call == .sched_setaffinity { return [.credentials, .cpuAffinity] }
            return .credentials
        default: return .credentials
        }
    }

    /// Checks what the single operations cannot check before they start: a raw call must not
    /// end, fork or leave the calling thread (``SystemCall/refusedInBroadcast``). (A privilege
    /// drop checks its own combinations.) Changes nothing.
    package func validate() throws(AllThreadsError) {
        if case .syscall(let call, _) = self { try call.requireBroadcastable() }
    }

    /// Applies the change to every thread. Never throws: the record holds the error, if any.
    package func apply(options: BroadcastOptions = BroadcastOptions()) -> ChangeRecord {
        let clock = ContinuousClock()
        let start = clock.now
        let before = EngineStatistics.current.broadcasts
        var reports: [BroadcastReport] = []
        var proof: ProcessSnapshot?, changeTime: Duration?
        var failure: AllThreadsError?
        var sandboxReport: SandboxReport?
        do throws(AllThreadsError) {
            try validate()
            (proof, changeTime) = try perform(options: options, into: &reports, sandbox: &sandboxReport)
        } catch {
            failure = error
        }
        return ChangeRecord(
            change: self, reports: reports, broadcasts: Int(EngineStatistics.current.broadcasts &- before),
            elapsed: changeTime ?? start.duration(to: clock.now), error: failure,
            acceptedIoUringRings: proof?.ioUringRings ?? [], acceptedIoUringRegistrations: proof?.ioUringRegistrations ?? [],
            sandbox: sandboxReport)
    }

    /// Runs the change; returns a privilege drop's proof and the time of its change alone (without
    /// the checks and the /proc proof), `nil` for the other changes; a sandbox's report goes to `sandbox`.
    private func perform(
        options: BroadcastOptions, into reports: inout [BroadcastReport], sandbox report: inout SandboxReport?
    ) throws(AllThreadsError) -> (ProcessSnapshot?, Duration?) {
        switch self {
        case .setuid(let uid): reports.append(try Broadcast.run(.setuid(uid), options: options))
        case .setgid(let gid): reports.append(try Broadcast.run(.setgid(gid), options: options))
        case .setresuid(let r, let e, let s):
            reports.append(try Broadcast.run(.setresuid(real: r, effective: e, saved: s), options: options))
        case .setresgid(let r, let e, let s):
            reports.append(try Broadcast.run(.setresgid(real: r, effective: e, saved: s), options: options))
        case .setGroups(let groups):
            reports.append(
                try groups.isEmpty
                    ? Broadcast.run(.clearGroups(), options: options) : Broadcast.run(.setGroups(groups), options: options))
        case .noNewPrivileges: reports.append(try Broadcast.run(.setNoNewPrivileges(), options: options))
        case .keepCapabilities(let keep): reports.append(try Broadcast.run(.setKeepCapabilities(keep), options: options))
        case .dropFromBoundingSet(let set): reports.append(try Broadcast.run(.dropFromBoundingSet(set), options: options))
        case .timerSlack(let nanoseconds):
            reports.append(try Broadcast.run(.setTimerSlack(.nanoseconds(nanoseconds)), options: options))
        case .setCapabilities(let e, let p, let i):
            reports.append(try Broadcast.run(.setCapabilities(effective: e, permitted: p, inheritable: i), options: options))
        case .dropCapabilities(let set): reports.append(try Capabilities.drop(set, options: options))
        case .seccomp(let filter): try filter.loadOnAllThreads()
        case .privilegeDrop(let drop):
            let (proof, programReports, timeline) = try drop.applyReporting(options: options)
            reports += programReports
            return (proof, timeline.changeDuration)
        case .syscall(let call, let arguments): reports.append(try Broadcast.syscall(call, arguments: arguments, options: options))
        case .sandbox(let sandbox):
            let applied = try sandbox.apply(options: options)
            reports.append(applied.broadcast)
            report = applied
        }
        return (nil, nil)
    }
}
