import AllThreads
import AllThreadsCLISupport
import AllThreadsFaults
import CBroadcast
import Foundation
import Glibc
import SystemPackage

/// Privileges a drop must not leave behind that are not io_uring: descriptor owners recorded with
/// root's credentials (`F_SETOWN`), and capabilities that are root in disguise. Each task is
/// checked through /proc with the scenarios' own reader.
enum DropScenarios {
    static let all: [String: Scenario] = [
        "drop-fsetown": signalOwner,
        "drop-root-equivalent-caps": rootEquivalentCapabilities,
        "drop-seccomp-needs-nnp": seccompNeedsNoNewPrivileges,
        "drop-seccomp-sync-after-change": seccompSyncFailsAfterChange,
        "drop-caller-lacks-capability": callerLacksCapability,
        "drop-timeline": timeline,
    ]

    /// The lines of a task's status that a drop changes.
    private static let credentialFields = [
        "Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp", "Seccomp_filters",
    ]

    /// Every task's ``credentialFields`` lines, as the kernel wrote them, by tid.
    private static func credentialLines() throws -> [Int32: [String: String]] {
        var tasks: [Int32: [String: String]] = [:]
        for entry in try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") {
            guard let tid = Int32(entry), let status = try? String(contentsOfFile: "/proc/self/task/\(entry)/status", encoding: .utf8) else { continue }
            var fields: [String: String] = [:]
            for line in status.split(separator: "\n") {
                guard let colon = line.firstIndex(of: ":"), credentialFields.contains(String(line[..<colon])) else { continue }
                fields[String(line[..<colon])] = String(line[line.index(after: colon)...].drop { $0 == "\t" || $0 == " " })
            }
            try require(fields.count == credentialFields.count, "task \(tid) shows only \(fields.keys.sorted())")
            tasks[tid] = fields
        }
        return tasks
    }

    /// Every task that both `before` and `after` show is the same in both; at least `count` are.
    private static func requireUnchanged(_ before: [Int32: [String: String]], _ after: [Int32: [String: String]], count: Int, _ what: String) throws {
        let common = Set(before.keys).intersection(after.keys)
        try require(common.count >= count, "only \(common.count) tasks were there before and after \(what), expected \(count)")
        for tid in common.sorted() where before[tid] != after[tid] {
            throw ScenarioFailure(description: "\(what) changed task \(tid): \(before[tid] ?? [:]) became \(after[tid] ?? [:])")
        }
    }

    /// A seccomp filter without no_new_privs and without a kept `cap_sys_admin` (the kernel would
    /// refuse the filter once every thread had dropped): refused when the drop is created, and
    /// when a valid drop is changed to it and applied (`apply` and `change`), with every task's
    /// /proc state unchanged; with no_new_privs, the same drop applies.
    static func seccompNeedsNoNewPrivileges(_ args: ScenarioArguments) throws -> String {
        let count = try args.int("threads", default: 8)
        try ThreadCrowd.grow(by: count)
        let filter = try SeccompFilter(parsing: SeccompScenarios.denyText)
        let before = try credentialLines()
        try require(before.values.allSatisfy { $0["Uid"] == "0\t0\t0\t0" && $0["Seccomp"] == "0" }, "not every task is unfiltered root: \(before)")
        var drop = try PrivilegeDrop(user: "nobody", noNewPrivileges: true, seccomp: filter)
        drop.noNewPrivileges = false
        let attempts: [(String, () throws -> Void)] = [
            ("init", { _ = try PrivilegeDrop(user: "nobody", seccomp: filter) }),
            ("apply", { try drop.apply() }),
            ("change", { try drop.change() }),
        ]
        for (name, attempt) in attempts {
            do {
                try attempt()
                throw ScenarioFailure(description: "\(name): a seccomp filter without no_new_privs or cap_sys_admin was accepted")
            } catch let error as AllThreadsError {
                guard case .invalidArgument(let message) = error.kind, message.contains("needs no_new_privs") else {
                    throw ScenarioFailure(description: "\(name): expected invalidArgument naming no_new_privs, got \(error)")
                }
            }
            try requireUnchanged(before, try credentialLines(), count: count + 1, "the refused \(name)")
        }
        drop.noNewPrivileges = true
        try drop.apply()
        let after = try credentialLines()
        let dropped = after.filter { $0.value["Uid"] == "65534\t65534\t65534\t65534" && $0.value["NoNewPrivs"] == "1" && $0.value["Seccomp"] == "2" }
        try require(dropped.count == after.count && after.count >= count + 1, "not every task dropped with the filter: \(after)")
        return "init, apply and change refused the filter without no_new_privs with all \(before.count) tasks unchanged in /proc; "
            + "with no_new_privs \(after.count) tasks show uid 65534, NoNewPrivs 1, Seccomp 2"
    }

    /// The calling thread without `cap_setpcap` in its effective set (still permitted): the drop,
    /// which would change the groups and the gid before reducing the bounding set failed, is
    /// refused naming it, with every task's /proc unchanged; raised again, the drop applies.
    static func callerLacksCapability(_ args: ScenarioArguments) throws -> String {
        let count = try args.int("threads", default: 8)
        try ThreadCrowd.grow(by: count)
        let setpcap = UInt32(1) << UInt32(Capability.setpcap.rawValue)
        try changeOwnEffectiveSet { $0 & ~setpcap }
        let before = try credentialLines()
        do {
            try PrivilegeDrop(user: "nobody").apply()
            throw ScenarioFailure(description: "the drop was accepted although the caller lacks cap_setpcap")
        } catch let error as AllThreadsError {
            guard case .invalidArgument(let message) = error.kind, message.contains("cap_setpcap") else {
                throw ScenarioFailure(description: "expected invalidArgument naming cap_setpcap, got \(error)")
            }
        }
        try requireUnchanged(before, try credentialLines(), count: count + 1, "the refused drop")
        try changeOwnEffectiveSet { $0 | setpcap }
        try PrivilegeDrop(user: "nobody").apply()
        let after = try credentialLines()
        try require(after.values.allSatisfy { $0["Uid"] == "65534\t65534\t65534\t65534" }, "not every task dropped: \(after)")
        return "refused with the caller's cap_setpcap lowered, all \(before.count) tasks unchanged in /proc; raised again, \(after.count) tasks dropped"
    }

    /// Changes the first word (capabilities 0-31) of the calling thread's effective set alone, with
    /// raw `capget` and `capset` (version 3: effective, permitted, inheritable, twice).
    private static func changeOwnEffectiveSet(_ change: (UInt32) -> UInt32) throws {
        var header: [UInt32] = [UInt32(_LINUX_CAPABILITY_VERSION_3), 0]
        var data = [UInt32](repeating: 0, count: 6)
        let call = { (number: Int32) in
            header.withUnsafeMutableBytes { h in
                data.withUnsafeMutableBytes { d in
                    cb_syscall(Int(number), Int(bitPattern: h.baseAddress), Int(bitPattern: d.baseAddress), 0, 0, 0, 0)
                }
            }
        }
        try require(call(Int32(SYS_capget)) == 0, "capget failed")
        data[0] = change(data[0])
        let rc = call(Int32(SYS_capset))
        try require(rc == 0, "capset: \(Errno(rawValue: Int32(-rc)))")
    }

    /// A thread with a seccomp filter of its own (that the drop's steps never meet): every thread
    /// drops (``PrivilegeDrop/change(options:)``), then the kernel cannot synchronize the filter to that thread. The error says in
    /// its type that threads had changed, and /proc shows every task dropped, none with the filter.
    static func seccompSyncFailsAfterChange(_ args: ScenarioArguments) throws -> String {
        let count = try args.int("threads", default: 8)
        try ThreadCrowd.grow(by: count)
        let odd = try SpecialThreads.seccompErrno(syscall: Int(SYS_getpgid), errno: Errno.noFunction.rawValue)
        let before = try credentialLines()
        do {
            // change(): apply() refuses up front, as a thread's own filter could trip its io_uring probe.
            try PrivilegeDrop(user: "nobody", noNewPrivileges: true, seccomp: try SeccompFilter(parsing: SeccompScenarios.denyText)).change()
            throw ScenarioFailure(description: "the drop succeeded although tid \(odd) has a filter of its own")
        } catch let error as AllThreadsError {
            guard case .failedAfterChange(let inner) = error.kind, case .seccompSyncFailed(let thread) = inner.kind, thread.tid == odd else {
                throw ScenarioFailure(description: "expected failedAfterChange(seccompSyncFailed(tid \(odd))), got \(error)")
            }
        }
        let after = try credentialLines()
        try require(after.count >= count + 2, "only \(after.count) tasks")
        for (tid, fields) in after {
            try require(fields["Uid"] == "65534\t65534\t65534\t65534", "task \(tid) did not drop: Uid \(fields["Uid"] ?? "?")")
            try require(fields["Seccomp_filters"] == before[tid]?["Seccomp_filters"], "task \(tid) got a filter: \(fields["Seccomp_filters"] ?? "?")")
        }
        return "failedAfterChange(seccompSyncFailed(tid \(odd))); /proc shows all \(after.count) tasks at uid 65534 and none with the new filter"
    }

    /// A drop with a seccomp filter, timed around the call: the change's intervals (program, filter
    /// load) come in order and all end before the proof starts, everything lies within the call, so
    /// the change's time (the CLI's `elapsed_ns`) plus the proof's never exceeds the whole call's:
    /// a change time read after the proof would overlap it.
    static func timeline(_ args: ScenarioArguments) throws -> String {
        try ThreadCrowd.grow(by: try args.int("threads", default: 32))
        let drop = try PrivilegeDrop(user: "nobody", noNewPrivileges: true, seccomp: try SeccompFilter(parsing: "default allow\ngetpgid errno EPERM\n"))
        let clock = ContinuousClock(), called = clock.now
        let timeline = try drop.applyReporting(options: BroadcastOptions()).timeline
        let returned = clock.now
        try require(timeline.change.count == 2, "expected the program's and the filter's intervals, got \(timeline.change)")
        let bounds = [called] + timeline.change.flatMap { [$0.lowerBound, $0.upperBound] } + [timeline.proof.lowerBound, timeline.proof.upperBound, returned]
        try require(zip(bounds, bounds.dropFirst()).allSatisfy { $0 <= $1 }, "the change's and the proof's intervals overlap or leave the call: \(bounds)")
        let total = called.duration(to: returned)
        try require(timeline.proofDuration > .zero, "the proof took no time")
        try require(
            timeline.changeDuration + timeline.proofDuration <= total, "change \(timeline.changeDuration) + proof \(timeline.proofDuration) > call \(total)")
        let tasks = try RawTask.all()
        try require(tasks.allSatisfy { $0.uids == [65534, 65534, 65534, 65534] }, "a task is not at 65534: \(tasks)")
        return "change \(timeline.changeDuration), then proof \(timeline.proofDuration), within the call's \(total)"
    }

    /// `F_SETSIG` and `O_ASYNC` (Linux), which Swift's Glibc does not import.
    private static let setSignal: Int32 = 10, asynchronous: Int32 = 0o20000

    /// Sockets with `O_ASYNC`, a root process as owner (`F_SETOWN`) and `F_SETSIG(SIGKILL)`, set up
    /// before the drop, one in the process's descriptor table and one only in the table of a
    /// thread that has a table of its own: after the drop, writing to either must not kill the
    /// root process.
    static func signalOwner(_ args: ScenarioArguments) throws -> String {
        try ThreadCrowd.grow(by: try args.int("threads", default: 8))
        let victim = try spawnSleeper()
        let shared = try ownedSocket(victim)
        let hidden = try ownedSocket(victim)
        let owner = try threadWithOwnTable()
        // Only the thread's copy of the table keeps the second socket's owned end.
        try require(close(hidden.owned) == 0, "close: \(Errno(rawValue: errno))")
        let inOwnTable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/task/\(owner)/fd/\(hidden.owned)")) ?? ""
        try require(inOwnTable.hasPrefix("socket:"), "tid \(owner)'s table does not hold the socket: \(inOwnTable)")

        try PrivilegeDrop(user: "nobody").apply()
        let tasks = try RawTask.all()
        try require(tasks.allSatisfy { $0.uids == [65534, 65534, 65534, 65534] }, "a task is not at 65534: \(tasks)")
        try require(fcntl(shared.owned, F_GETOWN) == victim, "the drop changed the owner to \(fcntl(shared.owned, F_GETOWN))")
        // The kernel sends the owner's signal inside write(): afterwards it is pending, or was refused.
        for (name, socket) in [("shared", shared), ("own-table", hidden)] {
            try require(write(socket.peer, "x", 1) == 1, "writing to the \(name) socket failed: \(Errno(rawValue: errno))")
            let (state, pending) = try signalState(of: victim)
            var status: Int32 = 0
            try require(
                state != "Z" && state != "X" && waitpid(victim, &status, WNOHANG) == 0, "the \(name) socket killed the root process \(victim) (state \(state))")
            try require(pending & (1 << (UInt64(SIGKILL) - 1)) == 0, "the \(name) socket left SIGKILL pending for the root process \(victim)")
        }
        return "after the drop, writing to O_ASYNC sockets owned by root pid \(victim) with F_SETSIG(SIGKILL), one in the process's table and one "
            + "in tid \(owner)'s own table, left it alive"
    }

    /// A connected pair whose end `owned` has `O_ASYNC`, owner `pid` and `F_SETSIG(SIGKILL)`.
    private static func ownedSocket(_ pid: pid_t) throws -> (owned: Int32, peer: Int32) {
        var pair: [Int32] = [0, 0]
        try require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0, "socketpair: \(Errno(rawValue: errno))")
        let flags = fcntl(pair[0], F_GETFL)
        try require(
            fcntl(pair[0], F_SETOWN, pid) == 0 && fcntl(pair[0], setSignal, SIGKILL) == 0 && fcntl(pair[0], F_SETFL, flags | asynchronous) == 0,
            "setting the owner, signal and O_ASYNC failed: \(Errno(rawValue: errno))")
        try require(fcntl(pair[0], F_GETOWN) == pid, "F_GETOWN does not name pid \(pid)")
        return (pair[0], pair[1])
    }

    /// Starts a thread that takes a copy of the descriptor table for itself (`unshare(CLONE_FILES)`)
    /// and then waits forever; returns its tid.
    private static func threadWithOwnTable() throws -> Int32 {
        let started = DispatchSemaphore(value: 0)
        let result = Result()
        let thread = Thread {
            let unshared = cb_syscall(Int(SYS_unshare), Int(CLONE_FILES), 0, 0, 0, 0, 0)
            result.set(unshared == 0 ? Int32(truncatingIfNeeded: cb_syscall(Int(SYS_gettid), 0, 0, 0, 0, 0, 0)) : Int32(unshared))
            started.signal()
            while true { sleep(3600) }
        }
        thread.start()
        try require(started.wait(timeout: .now() + 10) == .success, "the thread did not start")
        try require(result.value > 0, "unshare(CLONE_FILES): \(Errno(rawValue: -result.value))")
        return result.value
    }

    /// A number written once by another thread.
    private final class Result: @unchecked Sendable {
        private let lock = NSLock()
        private var stored: Int32 = 0
        func set(_ value: Int32) { lock.withLock { stored = value } }
        var value: Int32 { lock.withLock { stored } }
    }

    /// `cap_chown` + `cap_fowner` (a root-owned set-user-ID copy of any program): refused without
    /// the separately named parameter, before anything changes; with it, kept, and the proof names them.
    static func rootEquivalentCapabilities(_ args: ScenarioArguments) throws -> String {
        try ThreadCrowd.grow(by: try args.int("threads", default: 8))
        let disguised: CapabilitySet = [.chown, .fowner]
        do {
            _ = try PrivilegeDrop(user: "nobody", keepCapabilities: disguised.union([.netBindService]))
            throw ScenarioFailure(description: "keeping cap_chown and cap_fowner was accepted without allowingRootEquivalentCapabilities")
        } catch let error as AllThreadsError {
            guard case .invalidArgument(let message) = error.kind else { throw ScenarioFailure(description: "expected invalidArgument, got \(error)") }
            try require(message.contains("cap_chown") && message.contains("cap_fowner") && message.contains("root in disguise"), "unclear refusal: \(message)")
        }
        try require(try RawTask.all().allSatisfy { $0.uids == [0, 0, 0, 0] }, "the refused drop changed a task")
        let proof = try PrivilegeDrop(
            user: "nobody", keepCapabilities: disguised.union([.netBindService]), allowingRootEquivalentCapabilities: disguised
        ).apply()
        try require(
            proof.keptRootEquivalentCapabilities == disguised, "the proof names \(proof.keptRootEquivalentCapabilities.map(\.description) ?? "nothing")")
        let expected = disguised.union([.netBindService]).rawValue
        for (tid, fields) in try credentialLines() {
            let effective = fields["CapEff"].flatMap { UInt64($0, radix: 16) }
            try require(
                effective == expected, "task \(tid) has CapEff \(effective.map { String($0, radix: 16) } ?? "?"), expected \(String(expected, radix: 16))")
        }
        return "refused without allowingRootEquivalentCapabilities; with it every task keeps \(disguised) (and cap_net_bind_service), named by the proof"
    }

    /// The state letter and the pending signals (`ShdPnd:` | `SigPnd:`) of process `pid`.
    private static func signalState(of pid: pid_t) throws -> (Character, UInt64) {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8).split(separator: "\n")
        func field(_ key: String) -> Substring? { status.first { $0.hasPrefix(key + ":") }?.dropFirst(key.count + 1).drop { $0 == "\t" || $0 == " " } }
        let state = field("State")?.first ?? "?"
        let pending = [field("ShdPnd"), field("SigPnd")].compactMap { $0.flatMap { UInt64($0, radix: 16) } }.reduce(0, |)
        return (state, pending)
    }

    /// Starts `/bin/sleep 30` as root (posix_spawn), its output to /dev/null (the dropped process
    /// cannot kill it, and the test waits for the end of our output), and returns its pid.
    private static func spawnSleeper() throws -> pid_t {
        var pid: pid_t = 0
        let words: [String] = ["/bin/sleep", "30"]
        let argv = words.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd: Int32 in [1, 2] { posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_WRONLY, 0) }
        // No copy of the test's pipes either (some are not close-on-exec): the test reads to their end.
        for entry in try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            if let fd = Int32(entry), fd > 2 { posix_spawn_file_actions_addclose(&actions, fd) }
        }
        let rc = posix_spawn(&pid, "/bin/sleep", &actions, nil, argv, environ)
        try require(rc == 0, "posix_spawn /bin/sleep: \(Errno(rawValue: rc))")
        return pid
    }
}
