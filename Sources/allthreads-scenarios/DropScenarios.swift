import AllThreads
import AllThreadsWorkload
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
    ]

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
            try require(state != "Z" && state != "X" && waitpid(victim, &status, WNOHANG) == 0, "the \(name) socket killed the root process \(victim) (state \(state))")
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
            guard case .invalidArgument(let message) = error else { throw ScenarioFailure(description: "expected invalidArgument, got \(error)") }
            try require(message.contains("cap_chown") && message.contains("cap_fowner") && message.contains("root in disguise"), "unclear refusal: \(message)")
        }
        try require(try RawTask.all().allSatisfy { $0.uids == [0, 0, 0, 0] }, "the refused drop changed a task")
        let proof = try PrivilegeDrop(
            user: "nobody", keepCapabilities: disguised.union([.netBindService]), allowingRootEquivalentCapabilities: disguised
        ).apply()
        try require(proof.keptRootEquivalentCapabilities == disguised, "the proof names \(proof.keptRootEquivalentCapabilities.map(\.description) ?? "nothing")")
        let expected = disguised.union([.netBindService]).rawValue
        for entry in try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") {
            let status = try String(contentsOfFile: "/proc/self/task/\(entry)/status", encoding: .utf8)
            let effective = status.split(separator: "\n").first { $0.hasPrefix("CapEff:") }.flatMap { UInt64($0.dropFirst(7).trimmingCharacters(in: .whitespaces), radix: 16) }
            try require(effective == expected, "task \(entry) has CapEff \(effective.map { String($0, radix: 16) } ?? "?"), expected \(String(expected, radix: 16))")
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
