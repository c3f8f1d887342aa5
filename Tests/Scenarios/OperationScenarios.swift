import AllThreads
import AllThreadsCLISupport
import AllThreadsFaults
import CBroadcast
import Foundation
import Glibc
import SystemPackage

/// Scenarios for the typed operations: each changes every thread of a process
/// with at least 64 threads of mixed kinds, and checks each thread through /proc.
enum OperationScenarios {
    static let all: [String: Scenario] = [
        "op-credentials": credentials,
        "op-capabilities": capabilities,
        "op-attributes": attributes,
        "op-netns": networkNamespace,
        "op-landlock": landlock,
        "op-drop": drop,
        "op-drop-keep": dropKeepingCapabilities,
        "op-bad-input": badInput,
    ]

    private static func ids<ID>(_ real: UInt32, _ effective: UInt32, _ saved: UInt32, _ fs: UInt32) -> IDs<ID> {
        IDs(real: ID(rawValue: real)!, effective: ID(rawValue: effective)!, saved: ID(rawValue: saved)!, filesystem: ID(rawValue: fs)!)
    }

    private static func gid(_ n: Int) throws -> GroupID { try Account.groupID(validating: n) }
    private static func uid(_ n: Int) throws -> UserID { try Account.userID(validating: n) }

    /// Every credential call, each followed by a check of every thread.
    static func credentials(_ args: ScenarioArguments) throws -> String {
        try ThreadCrowd.grow(by: try args.int("threads", default: 64))
        var checks = 0
        func expect(_ what: String, _ property: (ThreadCredentials) -> Bool) throws {
            checks += try verifyEveryThread(what) { property($0.credentials) }
        }
        try Broadcast.run(.setGroups([gid(1000), gid(2000)]))
        try expect("in groups 1000,2000") { $0.groups.map(\.rawValue) == [1000, 2000] }
        try Broadcast.run(.clearGroups())
        try expect("in no group") { $0.groups.isEmpty }
        try Broadcast.run(.setresgid(real: gid(100), effective: gid(200), saved: gid(300)))
        try expect("at gids 100/200/300/200") { $0.gids == ids(100, 200, 300, 200) }
        try Broadcast.run(.setregid(real: gid(400), effective: nil))
        try expect("at real gid 400") { $0.gids.real.rawValue == 400 && $0.gids.effective.rawValue == 200 }
        try Broadcast.run(.setgid(gid(500)))
        try expect("at gid 500") { $0.gids.all(equal: GroupID(rawValue: 500)) }
        try require(try Credentials.setfsgid(gid(600)) == 500, "setfsgid did not return the previous fsgid")
        try expect("at fsgid 600") { $0.gids == ids(500, 500, 500, 600) }
        try Broadcast.run(.setreuid(real: uid(1001), effective: nil))
        try expect("at real uid 1001, effective 0") { $0.uids.real.rawValue == 1001 && $0.uids.effective.rawValue == 0 }
        try require(try Credentials.setfsuid(uid(1005)) == 0, "setfsuid did not return the previous fsuid")
        try expect("at fsuid 1005") { $0.uids.filesystem.rawValue == 1005 }
        try Broadcast.run(.setresuid(real: uid(2001), effective: uid(2002), saved: uid(2003)))
        try expect("at uids 2001/2002/2003/2002") { $0.uids == ids(2001, 2002, 2003, 2002) }
        try Broadcast.run(.setuid(uid(2003)))
        try expect("at effective uid 2003") { $0.uids == ids(2001, 2003, 2003, 2003) }
        return "setgroups, clearGroups, setresgid, setregid, setgid, setfsgid, setreuid, setfsuid, setresuid, setuid: \(checks) thread checks passed"
    }

    /// Capability sets, bounding set, ambient set, securebits and keep-caps.
    static func capabilities(_ args: ScenarioArguments) throws -> String {
        try ThreadCrowd.grow(by: try args.int("threads", default: 64))
        var checks = 0
        func expect(_ what: String, _ property: (CapabilitySets) -> Bool) throws {
            checks += try verifyEveryThread(what) { property($0.credentials.capabilities) }
        }
        try Broadcast.run(.dropFromBoundingSet([.sysModule, .sysBoot]))
        try expect("without sys_module and sys_boot in the bounding set") {
            !$0.bounding.contains(.sysModule) && !$0.bounding.contains(.sysBoot) && $0.bounding.contains(.chown)
        }
        let kept: CapabilitySet = [.chown, .netBindService, .setpcap, .setuid, .setgid]
        try Broadcast.run(.setCapabilities(effective: kept, permitted: kept, inheritable: [.netBindService]))
        try expect("at the new sets") { $0.effective == kept && $0.permitted == kept && $0.inheritable == [.netBindService] }
        try Broadcast.run(.raiseAmbient([.netBindService]))
        try expect("with ambient net_bind_service") { $0.ambient == [.netBindService] }
        try Broadcast.run(.lowerAmbient([.netBindService]))
        try expect("with no ambient capability") { $0.ambient.isEmpty }
        try Broadcast.run(.raiseAmbient([.netBindService]))
        try Broadcast.run(.clearAmbient())
        try expect("with a cleared ambient set") { $0.ambient.isEmpty }
        try Broadcast.run(.setKeepCapabilities(true))
        let keepcaps = try Broadcast.probe(.prctl, Int(PR_GET_KEEPCAPS))
        try require(keepcaps.rawValue == 1, "PR_GET_KEEPCAPS is \(keepcaps) on every thread, expected 1")
        try Broadcast.run(.setSecurebits([.noSetuidFixup]))
        let bits = try Broadcast.probe(.prctl, Int(PR_GET_SECUREBITS))
        try require(bits.rawValue == Int(Securebits.noSetuidFixup.rawValue), "securebits read \(bits) on every thread")
        return "bounding drop, capset, ambient raise/lower/clear: \(checks) thread checks; keep-caps and securebits read back on every thread by probe"
    }

    /// no_new_privs, timer slack, nice value and CPU affinity.
    static func attributes(_ args: ScenarioArguments) throws -> String {
        try ThreadCrowd.grow(by: try args.int("threads", default: 64))
        try Broadcast.run(.setTimerSlack(.nanoseconds(123_456)))
        var checks = try verifyEveryThread("at timer slack 123456") { $0.timerSlack == .nanoseconds(123_456) }
        try Broadcast.run(.setNice(7))
        checks += try verifyEveryThread("at nice 7") { $0.nice == 7 }
        try Broadcast.run(.setAffinity(cpus: [0]))
        checks += try verifyEveryThread("on CPU 0 only") { $0.cpusAllowedList == "0" }
        try Broadcast.run(.setNoNewPrivileges())
        checks += try verifyEveryThread("with no_new_privs") { $0.credentials.noNewPrivs }
        return "timer slack, nice, affinity, no_new_privs: \(checks) thread checks passed"
    }

    /// A thread unshares a new network namespace; every thread then joins it.
    static func networkNamespace(_ args: ScenarioArguments) throws -> String {
        try ThreadCrowd.grow(by: try args.int("threads", default: 64))
        let opened = OpenedNamespace()
        let thread = Thread { opened.open() }
        thread.start()
        let fd = try opened.wait()
        let target = try NetworkNamespace.identity(of: fd)
        let pid = getpid()
        let before = NetworkNamespace.identity(pid: pid, tid: pid)
        try require(before != target, "the new namespace is the old one")
        try Broadcast.run(.joinNetworkNamespace(fd))
        let checked = try verifyEveryThread("in \(target)") { NetworkNamespace.identity(pid: pid, tid: $0.tid) == target }
        return "\(checked) threads moved from \(before ?? "?") to \(target) per /proc/<pid>/task/<tid>/ns/net"
    }

    /// Every thread enforces a Landlock ruleset that forbids making directories.
    static func landlock(_ args: ScenarioArguments) throws -> String {
        let abi: Int
        do { abi = try Landlock.abiVersion() } catch { return "SKIPPED: this kernel has no Landlock (\(error))" }
        try ThreadCrowd.grow(by: try args.int("threads", default: 64))
        var handled = UInt64(LANDLOCK_ACCESS_FS_MAKE_DIR)
        let fd = withUnsafePointer(to: &handled) { cb_syscall(Int(SYS_landlock_create_ruleset), Int(bitPattern: $0), 8, 0, 0, 0, 0) }
        try require(fd >= 0, "landlock_create_ruleset failed: \(Errno(rawValue: CInt(-fd)))")
        let path = "/tmp/allthreads-landlock-\(getpid())"
        try require(mkdir(path, 0o700) == 0 && rmdir(path) == 0, "mkdir fails even before the restriction")
        let report = try Broadcast.run(.landlockRestrictSelf(ruleset: FileDescriptor(rawValue: CInt(fd))))
        let after = try path.withCString { p in try Broadcast.probe(SystemCall(rawValue: Int(SYS_mkdirat)), Int(AT_FDCWD), Int(bitPattern: p), 0o700) }
        rmdir(path)
        try require(after.errno == .permissionDenied, "mkdirat after the restriction gave \(after) on every thread, expected EACCES")
        return "Landlock ABI \(abi): \(report.threads) threads restricted; mkdirat fails with EACCES on every thread (probe)"
    }

    /// The privilege drop with no_new_privs and a seccomp filter, proven independently here.
    static func drop(_ args: ScenarioArguments) throws -> String {
        try ThreadCrowd.grow(by: try args.int("threads", default: 64))
        let filter = try SeccompFilter(parsing: "default allow\ngetpgid errno EPERM\n")
        let snapshot = try PrivilegeDrop(user: "nobody", noNewPrivileges: true, seccomp: filter).apply()
        let checked = try verifyEveryThread("dropped to nobody with no_new_privs and a filter") { t in
            let c = t.credentials
            return c.uids.all(equal: UserID(rawValue: 65534)) && c.gids.all(equal: GroupID(rawValue: 65534)) && c.groups.map(\.rawValue) == [65534]
                && c.capabilities.permitted.isEmpty && c.capabilities.effective.isEmpty && c.capabilities.inheritable.isEmpty
                && c.capabilities.ambient.isEmpty && c.capabilities.bounding.isEmpty && c.noNewPrivs && c.seccomp == .filter
        }
        let root = try Broadcast.probe(.setuid, 0)
        try require(root.errno == .notPermitted, "setuid(0) gave \(root) on every thread")
        let denied = try Broadcast.probe(SystemCall(rawValue: Int(SYS_getpgid)), 0)
        try require(denied.errno == .notPermitted, "the filtered getpgid gave \(denied) on every thread")
        return
            "\(snapshot.threads.count) threads dropped by PrivilegeDrop; \(checked) re-checked here: uid/gid 65534, groups [65534], no capabilities, NoNewPrivs 1, Seccomp 2; setuid(0) and getpgid fail with EPERM on every thread"
    }

    /// The privilege drop keeping one capability.
    static func dropKeepingCapabilities(_ args: ScenarioArguments) throws -> String {
        try ThreadCrowd.grow(by: try args.int("threads", default: 64))
        let keep: CapabilitySet = [.netBindService]
        try PrivilegeDrop(user: "nobody", keepCapabilities: keep).apply()
        let checked = try verifyEveryThread("at nobody keeping only net_bind_service") { t in
            let s = t.credentials.capabilities
            return t.credentials.uids.all(equal: UserID(rawValue: 65534)) && s.permitted == keep && s.effective == keep
                && s.inheritable == keep && s.ambient == keep && s.bounding == keep
        }
        return "\(checked) threads at uid 65534 with exactly cap_net_bind_service in every set"
    }

    /// Every bad input is refused with a clear message before any thread changes.
    static func badInput(_ args: ScenarioArguments) throws -> String {
        try ThreadCrowd.grow(by: try args.int("threads", default: 64))
        let before = try fingerprint()
        let devNull = try FileDescriptor.open("/dev/null", .readOnly)
        let last = Capability.lastSupported.rawValue
        let cases: [(String, String, () throws -> Void)] = [
            ("negative uid", "is negative", { try Broadcast.run(.setuid(try Account.userID(validating: -5))) }),
            ("uid -1", "leave unchanged", { try Broadcast.run(.setuid(UserID(rawValue: UInt32.max))) }),
            ("uid above range", "above the kernel's largest", { try Broadcast.run(.setuid(try Account.userID(validating: 1 << 32))) }),
            ("unknown user", "unknown user 'no-such-user'", { _ = try PrivilegeDrop(user: "no-such-user") }),
            ("unknown group", "unknown group 'no-such-group'", { try Broadcast.run(.setgid(try Account.groupID(parsing: "no-such-group"))) }),
            ("unknown capability", "unknown capability", { try Broadcast.run(.dropFromBoundingSet(try CapabilitySet(parsing: "cap_fly"))) }),
            (
                "capability above the kernel's last", "above the running kernel's last",
                {
                    try Broadcast.run(.dropFromBoundingSet(CapabilitySet(rawValue: 1 << UInt64(last + 1))))
                }
            ),
            ("empty group list", "empty", { try Broadcast.run(.setGroups([])) }),
            ("oversized group list", "NGROUPS_MAX", { try Broadcast.run(.setGroups((1...65537).map { GroupID(rawValue: UInt32($0)) })) }),
            ("not a network namespace", "is not a network namespace", { try Broadcast.run(.joinNetworkNamespace(devNull)) }),
            ("not a Landlock ruleset", "is not a Landlock ruleset", { try Broadcast.run(.landlockRestrictSelf(ruleset: devNull)) }),
            ("nice out of range", "outside -20...19", { try Broadcast.run(.setNice(20)) }),
            ("no such CPU", "does not exist", { try Broadcast.run(.setAffinity(cpus: [9999])) }),
            ("timer slack 0", "at least 1 ns", { try Broadcast.run(.setTimerSlack(.nanoseconds(0))) }),
            ("keeping cap_setuid", "regain root", { _ = try PrivilegeDrop(user: "nobody", keepCapabilities: [.setuid]) }),
            ("dropping to root", "is root", { _ = try PrivilegeDrop(user: "root") }),
            (
                "effective beyond permitted", "not in the permitted set",
                { try Broadcast.run(.setCapabilities(effective: [.chown], permitted: [], inheritable: [])) }
            ),
            ("bad seccomp filter", "unknown system call", { _ = try SeccompFilter(parsing: "default allow\nno_such_call errno EPERM\n").validate() }),
        ]
        var messages: [String] = []
        for (name, fragment, call) in cases {
            do {
                try call()
                throw ScenarioFailure(description: "\(name) was accepted")
            } catch let error as AllThreadsError {
                guard case .invalidArgument(let message) = error.kind else { throw ScenarioFailure(description: "\(name): \(error)") }
                try require(message.contains(fragment), "\(name): message '\(message)' lacks '\(fragment)'")
                messages.append("\(name): \(message)")
            }
        }
        try require(try fingerprint() == before, "a refused input changed a thread")
        return "\(cases.count) bad inputs refused, no thread changed:\n  " + messages.joined(separator: "\n  ")
    }

    /// Every thread's credentials and attributes, to show that nothing changed.
    private static func fingerprint() throws -> [String] {
        let pid = getpid()
        return try ProcessSnapshot.current().threads.map { t in
            "\(t.tid) \(t.credentials) \(String(describing: t.timerSlack)) \(String(describing: t.nice)) \(t.cpusAllowedList) \(NetworkNamespace.identity(pid: pid, tid: t.tid) ?? "")"
        }
    }
}

/// A network namespace that one thread creates for itself and hands over as a descriptor.
private final class OpenedNamespace: @unchecked Sendable {
    private let ready = DispatchSemaphore(value: 0)
    private var result: Result<FileDescriptor, ScenarioFailure> = .failure(ScenarioFailure(description: "not opened"))

    /// On the new thread: unshare the network namespace (this thread only) and open it.
    func open() {
        let r = cb_syscall(Int(SYS_unshare), Int(CLONE_NEWNET), 0, 0, 0, 0, 0)
        if r < 0 {
            result = .failure(ScenarioFailure(description: "unshare(CLONE_NEWNET): \(Errno(rawValue: CInt(-r)))"))
        } else {
            do { result = .success(try FileDescriptor.open("/proc/thread-self/ns/net", .readOnly)) } catch {
                result = .failure(ScenarioFailure(description: "open ns/net: \(error)"))
            }
        }
        ready.signal()
        while true { pause() }
    }

    /// The descriptor, once the thread has opened it (at most 10 s).
    func wait() throws -> FileDescriptor {
        guard ready.wait(timeout: .now() + 10) == .success else { throw ScenarioFailure(description: "the namespace thread did not start") }
        return try result.get()
    }
}
