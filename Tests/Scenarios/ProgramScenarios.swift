import AllThreads
import AllThreadsCLISupport
import AllThreadsFaults
import CBroadcast
import CFaults
import CWorkload
import Foundation
import Glibc
import SystemPackage

/// Programs: many steps that every thread runs as a whole in one broadcast. Each scenario
/// takes `--mode strict|relaxed` and checks every thread from /proc (and counts each
/// thread's write system calls, so a step run twice or not at all shows).
enum ProgramScenarios {
    static let all: [String: Scenario] = [
        "program-50": fifty,
        "program-unreachable": unreachable,
        "program-caller-fails": callerFails,
        "program-thread-stops": threadStops,
        "program-churn": churn,
        "program-bad-input": badInput,
        "drop-proof-fails": dropProofFails,
    ]

    /// `write(/dev/null, 1 byte)`: a step whose runs the kernel counts per thread (`syscw`).
    static func writeStep(_ fd: FileDescriptor) -> BroadcastStep {
        BroadcastStep(SystemCall(rawValue: Int(SYS_write)), arguments: [.value(Int(fd.rawValue)), .bytes([0x2a])])
    }

    /// 200 threads of every kind; a 50-step program drops root (groups, gid, the whole bounding
    /// set, uid, no_new_privs), writes a byte `writes` times and proves that setuid(0) and
    /// setgid(0) fail, in one broadcast. Every thread must hold the result in /proc and have
    /// made exactly `writes` more writes.
    static func fifty(_ args: ScenarioArguments) throws -> String {
        let mode = try args.mode()
        try ThreadCrowd.start(count: try args.int("units", default: 270))
        let devNull = try FileDescriptor.open("/dev/null", .writeOnly)
        let nobody = Int(65534)
        let denied = BroadcastStep.Expectation.result(SyscallResult.failure(.notPermitted))
        var program = BroadcastProgram.clearGroups()
        program.steps.append(BroadcastStep(.setresgid, nobody, nobody, nobody))
        program += try .dropFromBoundingSet(.allSupported)
        program.steps.append(BroadcastStep(.setresuid, nobody, nobody, nobody))
        program += .setNoNewPrivileges()
        let writes = 48 - program.steps.count
        program.steps += Array(repeating: writeStep(devNull), count: writes)
        program.steps += [BroadcastStep(.setuid, 0, expecting: denied), BroadcastStep(.setgid, 0, expecting: denied)]
        try require(program.steps.count == 50, "the program has \(program.steps.count) steps, not 50")

        let before = try TortureScenarios.writeCounts()
        let report = try Broadcast.run(program, options: BroadcastOptions(mode: mode))
        let after = try TortureScenarios.writeCounts()
        let wrongCounts = after.filter { tid, count in before[tid].map { count - $0 != UInt64(writes) } ?? false }
        try require(wrongCounts.isEmpty, "threads \(wrongCounts.keys.sorted()) did not write exactly \(writes) times")
        let checked = try verifyEveryThread("dropped with an empty bounding set and no_new_privs") { t in
            t.credentials.uids.all(equal: UserID(rawValue: 65534)) && t.credentials.gids.all(equal: GroupID(rawValue: 65534)) && t.credentials.groups.isEmpty
                && t.credentials.capabilities.bounding.isEmpty && t.credentials.noNewPrivs
        }
        try require(report.threads == checked && checked >= 200, "the report counts \(report.threads) threads, /proc \(checked) (200 or more wanted)")
        return "\(mode): 50 steps in 1 broadcast on \(checked) threads (\(report.elapsed)); each wrote \(writes) times "
            + TortureScenarios.tally(runs: 1, threads: checked)
    }

    /// A thread blocks the signal with a raw rt_sigprocmask: the error names it. Strict: /proc
    /// shows no step applied on any thread. Relaxed: every other thread has every step.
    static func unreachable(_ args: ScenarioArguments) throws -> String {
        let mode = try args.mode()
        try ThreadCrowd.start(count: 16)
        let blocker = try SpecialThreads.signalBlocker(kernelSignal: CB_DEFAULT_SIGNAL)
        defer { cw_release_signal_blockers() }
        let program =
            try BroadcastProgram.setTimerSlack(.nanoseconds(610_001)) + .setNoNewPrivileges()
            + .dropFromBoundingSet([.sysBoot]) + .setTimerSlack(.nanoseconds(610_002))
        do {
            try Broadcast.run(program, options: BroadcastOptions(timeout: .milliseconds(300), mode: mode))
            throw ScenarioFailure(description: "the program ran although tid \(blocker) blocks the signal")
        } catch let error as AllThreadsError {
            switch (error.kind, mode) {
            case (.unreachable(let threads), .strict), (.unreachableAfterChange(let threads), .relaxed):
                try require(threads.map(\.tid) == [blocker], "the error names \(threads), not only tid \(blocker)")
            default:
                throw ScenarioFailure(description: "expected tid \(blocker) unreachable, got \(error)")
            }
        }
        let others = try ProcessSnapshot.current().threads.filter { !$0.runsNoCode && $0.tid != blocker }
        let blocked = try ProcessSnapshot.current().threads.filter { $0.tid == blocker }
        try require(
            blocked.allSatisfy { !$0.credentials.noNewPrivs && $0.credentials.capabilities.bounding.contains(.sysBoot) },
            "the unreachable thread ran steps")
        if mode == .strict {
            let changed = others.filter {
                $0.credentials.noNewPrivs || !$0.credentials.capabilities.bounding.contains(.sysBoot) || $0.timerSlack == .nanoseconds(610_002)
            }
            try require(changed.isEmpty, "threads \(changed.map(\.tid)) ran steps although one thread was unreachable")
        } else {
            let missed = others.filter {
                !$0.credentials.noNewPrivs || $0.credentials.capabilities.bounding.contains(.sysBoot) || $0.timerSlack != .nanoseconds(610_002)
            }
            try require(missed.isEmpty, "threads \(missed.map(\.tid)) did not run every step")
        }
        return "\(mode): tid \(blocker) named; /proc of \(others.count + 1) threads as promised " + TortureScenarios.tally(runs: 1, threads: others.count + 1)
    }

    /// The caller's step 3 fails (`setns` on a descriptor that is not open): every thread holds
    /// exactly steps 1 and 2 (per /proc), and the error says so.
    static func callerFails(_ args: ScenarioArguments) throws -> String {
        let mode = try args.mode()
        try ThreadCrowd.start(count: 24)
        let bad = BroadcastProgram([BroadcastStep(.setns, 1_000_000, Int(CLONE_NEWNET))])
        let program =
            try BroadcastProgram.setTimerSlack(.nanoseconds(620_001)) + .setNoNewPrivileges() + bad
            + .dropFromBoundingSet([.sysBoot])
        do {
            try Broadcast.run(program, options: BroadcastOptions(mode: mode))
            throw ScenarioFailure(description: "a program whose step 3 fails on the caller succeeded")
        } catch let error as AllThreadsError {
            guard case .stepFailed(let failure) = error.kind else { throw ScenarioFailure(description: "expected step 3 to fail, got \(error)") }
            try require(
                failure.step == 2 && failure.appliedSteps == 2 && failure.result.errno == .badFileDescriptor,
                "the failure says \(failure)")
            try require("\(error)".contains("steps 1...2 are applied on every thread"), "the message says \(error)")
        }
        let checked = try verifyEveryThread("holding exactly steps 1 and 2") { t in
            t.timerSlack == .nanoseconds(620_001) && t.credentials.noNewPrivs && t.credentials.capabilities.bounding.contains(.sysBoot)
        }
        return "\(mode): step 3 failed on the caller; \(checked) threads hold exactly steps 1...2 " + TortureScenarios.tally(runs: 1, threads: checked)
    }

    /// One thread's own seccomp filter denies `setpriority` (step 2): the error names that thread
    /// and step; it holds step 1 only, every other thread the whole program.
    static func threadStops(_ args: ScenarioArguments) throws -> String {
        let mode = try args.mode()
        try ThreadCrowd.start(count: 24)
        let odd = try SpecialThreads.seccompErrno(syscall: Int(SYS_setpriority), errno: EPERM)
        let program = try BroadcastProgram.setTimerSlack(.nanoseconds(630_001)) + .setNice(7) + .setTimerSlack(.nanoseconds(630_002))
        do {
            try Broadcast.run(program, options: BroadcastOptions(mode: mode))
            throw ScenarioFailure(description: "the program succeeded although tid \(odd) cannot run step 2")
        } catch let error as AllThreadsError {
            guard case .stepMismatch(let threads) = error.kind, threads.count == 1, let t = threads.first else {
                throw ScenarioFailure(description: "expected tid \(odd) named at step 2, got \(error)")
            }
            try require(
                t.thread.tid == odd && t.step == 1 && t.result.errno == .notPermitted && t.expected.rawValue == 0,
                "the mismatch says \(t)")
        }
        let threads = try ProcessSnapshot.current().threads.filter { !$0.runsNoCode }
        let wrong = threads.filter { t in
            t.tid == odd ? t.timerSlack != .nanoseconds(630_001) : (t.timerSlack != .nanoseconds(630_002) || t.nice != 7)
        }
        try require(wrong.isEmpty, "threads \(wrong.map(\.tid)) do not hold what the error says")
        return "\(mode): tid \(odd) stopped at step 2, \(threads.count - 1) threads finished " + TortureScenarios.tally(runs: 1, threads: threads.count)
    }

    /// Threads created and exiting all the time, and 8 threads broadcasting 3-write programs at
    /// once: every thread that lived through it made exactly 3 writes per program run.
    static func churn(_ args: ScenarioArguments) throws -> String {
        let mode = try args.mode()
        let rounds = try args.int("rounds", default: 25)
        try ThreadCrowd.start(count: 16)
        try ThreadChurn.start(creators: 2)
        defer { ThreadChurn.stop() }
        let devNull = try FileDescriptor.open("/dev/null", .writeOnly)
        let program = BroadcastProgram(Array(repeating: writeStep(devNull), count: 3))
        let before = try TortureScenarios.writeCounts()
        let failures = Failures()
        let group = DispatchGroup()
        for _ in 0..<8 {
            group.enter()
            Thread {
                for _ in 0..<rounds {
                    do { try Broadcast.run(program, options: BroadcastOptions(mode: mode)) } catch { failures.add("\(error)") }
                }
                group.leave()
            }.start()
        }
        try require(group.wait(timeout: .now() + 120) == .success, "the broadcasters did not finish")
        try require(failures.all.isEmpty, failures.all.prefix(3).joined(separator: "; "))
        // Each broadcaster made its own 3 writes per round too, as the caller.
        let expected = UInt64(8 * rounds * 3)
        let after = try TortureScenarios.writeCounts()
        let lived = after.filter { before[$0.key] != nil }
        let wrong = lived.filter { tid, count in count - before[tid]! != expected }
        try require(
            wrong.isEmpty,
            "\(wrong.count) of \(lived.count) threads did not make exactly \(expected) writes: "
                + wrong.prefix(5).map { "tid \($0.key): \($0.value - before[$0.key]!)" }.joined(separator: ", "))
        return "\(mode): \(8 * rounds) programs from 8 threads, \(ThreadChurn.created) threads created meanwhile, \(lived.count) threads ran each exactly once "
            + TortureScenarios.tally(runs: 8 * rounds, threads: lived.count)
    }

    /// Too many steps, a negative call number, seven arguments, and a bad value at step 30:
    /// each is refused before anything runs, and no thread changed (per /proc).
    static func badInput(_ args: ScenarioArguments) throws -> String {
        try ThreadCrowd.start(count: 16)
        try broadcastTimerSlack(640_000)
        let slack = BroadcastStep(.prctl, Int(PR_SET_TIMERSLACK), 640_001)
        var refused: [String] = []
        func expectRefused(_ what: String, _ build: () throws(AllThreadsError) -> BroadcastProgram) throws {
            do {
                try Broadcast.run(try build())
                throw ScenarioFailure(description: "\(what) was not refused")
            } catch let error as AllThreadsError {
                guard case .invalidArgument(let message) = error.kind else { throw ScenarioFailure(description: "\(what): \(error)") }
                refused.append(message)
            }
            try TortureScenarios.requireUnchanged(640_000)
        }
        try expectRefused("65 steps") { BroadcastProgram(Array(repeating: slack, count: 65)) }
        try expectRefused("a negative call number") { BroadcastProgram([slack, BroadcastStep(SystemCall(rawValue: -3))]) }
        try expectRefused("seven arguments") { BroadcastProgram([slack, BroadcastStep(.prctl, 1, 2, 3, 4, 5, 6, 7)]) }
        try expectRefused("an empty program") { BroadcastProgram() }
        try expectRefused("a bad value at step 30") { () throws(AllThreadsError) in
            var program = BroadcastProgram()
            for i in 1...40 { program += try .setTimerSlack(.nanoseconds(i == 30 ? 0 : 640_001)) }
            return program
        }
        return "5 bad programs refused before anything ran, no thread changed: " + refused.joined(separator: " | ")
    }

    /// One thread's own seccomp filter makes `setuid(0)` return 0 without doing anything. `apply`
    /// refuses before anything changes: under a filter it cannot probe whether a thread has used
    /// io_uring. `change` (no checks before) runs the drop: its regain probe (in the same broadcast
    /// as the drop) must fail the proof, naming that thread and the probe, while /proc shows every
    /// thread dropped. Two more threads' filters make `setgroups` and `prctl` (each
    /// `PR_CAPBSET_DROP`) return 0 without doing anything, so every step result agrees: the
    /// read-back of ``PrivilegeDrop/apply(options:)`` must still name the one that kept a
    /// supplementary group and the one that kept its bounding set, and read every thread as the
    /// full /proc parser does.
    static func dropProofFails(_ args: ScenarioArguments) throws -> String {
        let mode = try args.mode()
        // More groups than the fast reader's first guess (64): it must grow and read again.
        let oldGroups = (4200..<4300).map { gid_t($0) }
        try require(setgroups(oldGroups.count, oldGroups) == 0, "setgroups(4200..<4300): errno \(errno)")
        try ThreadCrowd.start(count: 16)
        let odd = try SpecialThreads.seccompErrno(syscall: Int(SYS_setuid), errno: 0)
        let keepsGroup = try SpecialThreads.seccompErrno(syscall: Int(SYS_setgroups), errno: 0)
        let keepsBounding = try SpecialThreads.seccompErrno(syscall: Int(SYS_prctl), errno: 0)
        do {
            try PrivilegeDrop(user: "nobody").apply(options: BroadcastOptions(mode: mode))
            throw ScenarioFailure(description: "the drop was proven although tid \(odd) has a seccomp filter, so io_uring use could not be probed")
        } catch let error as AllThreadsError {
            guard case .privilegeRetained(let found, false) = error.kind, found == [.ioUringNotProbed] else {
                throw ScenarioFailure(description: "expected a refusal before the drop (io_uring use not probed), got \(error)")
            }
        }
        try require(try verifyEveryThread("still root") { $0.credentials.uids.all(equal: UserID(rawValue: 0)) } > 0, "the refused drop changed a thread")
        let drop = try PrivilegeDrop(user: "nobody")
        do {
            try drop.change(options: BroadcastOptions(mode: mode))
            throw ScenarioFailure(description: "the drop was proven although tid \(odd)'s setuid(0) succeeds")
        } catch let error as AllThreadsError {
            guard case .proofFailed(let threads) = error.kind else { throw ScenarioFailure(description: "expected a failed proof, got \(error)") }
            try require(
                threads.map(\.thread.tid) == [odd] && threads[0].fields.map(\.field) == ["setuid(0)"]
                    && threads[0].fields[0].value == "0", "the proof names \(threads)")
        }
        let (readBack, failures) = try drop.readBack()
        let named = failures.map { "\($0.thread.tid): \($0.fields.map(\.field))" }
        try require(named == ["\(keepsGroup): [\"groups\"]", "\(keepsBounding): [\"CapBnd\"]"], "the read-back names \(named)")
        let full = try ProcessSnapshot.current().threads
        // State, blocked signals and switch counts are left out: a thread still leaving its handler
        // when the first read ran may be asleep, with its own mask again, at the second. The read-back
        // has the nice value only of tasks that block every signal (it reads their stat, for io_uring).
        let same = { (a: ThreadState, b: ThreadState) in
            a.tid == b.tid && a.name == b.name && a.credentials == b.credentials && a.isIOWorker == b.isIOWorker
                && (a.nice == nil || a.nice == b.nice) && a.cpusAllowedList == b.cpusAllowedList
        }
        let differing = zip(readBack.threads, full).filter { !same($0, $1) }.map { "\($0) against \($1)" }
        try require(readBack.threads.count == full.count && differing.isEmpty, "the read-back and the full /proc parser disagree: \(differing.prefix(2))")
        let checked = try verifyEveryThread("dropped to nobody") {
            $0.credentials.uids.all(equal: UserID(rawValue: 65534)) && $0.credentials.gids.all(equal: GroupID(rawValue: 65534))
        }
        return
            "\(mode): refused before the drop (io_uring use not probed under tid \(odd)'s filter); the change's proof names tid \(odd) (setuid(0) returned 0); "
            + "the read-back names tid \(keepsGroup) (groups) and tid \(keepsBounding) (CapBnd) and agrees with the full parser on \(full.count) threads; \(checked) threads dropped per /proc "
            + TortureScenarios.tally(runs: 1, threads: checked)
    }
}
