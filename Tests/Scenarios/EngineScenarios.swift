import AllThreads
import AllThreadsCLISupport
import AllThreadsFaults
import CBroadcast
import CFaults
import CWorkload
import Foundation
import SystemPackage

/// Scenarios for the broadcast engine. Each runs in a process of its own,
/// changes state that cannot be changed back, checks every thread through
/// /proc, and returns a one-line summary of what it proved.
enum EngineScenarios {
    static let all: [String: Scenario] = [
        "mixed-drop": mixedDrop,
        "blocked-signal": blockedSignal,
        "seccomp-mismatch": seccompMismatch,
        "mismatch-abort": mismatchAbort,
        "zombie-main": zombieMain,
        "held-deadline": heldDeadline,
        "churn": churn,
        "malloc-storm": mallocStorm,
        "glibc-interleave": glibcInterleave,
        "concurrent": concurrent,
        "forged-signal": forgedSignal,
        "forge": forge,
        "fork-child": forkChild,
    ]

    static let nobody = 65534

    /// 200 threads of every kind; setresgid then setresuid to 65534 on all of them.
    static func mixedDrop(_ args: ScenarioArguments) throws -> String {
        let count = try args.int("threads", default: 200)
        try ThreadCrowd.grow(by: count)
        let live = ThreadCrowd.liveThreadCount()
        try require(try verifyEveryThread("root", { $0.credentials.uids.all(equal: UserID(rawValue: 0)) }) >= live - 1, "threads missing before the drop")
        let gid = try Broadcast.syscall(.setresgid, nobody, nobody, nobody)
        let uid = try Broadcast.syscall(.setresuid, nobody, nobody, nobody)
        let checked = try verifyEveryThread("at uid and gid 65534") {
            $0.credentials.uids.all(equal: UserID(rawValue: UInt32(nobody))) && $0.credentials.gids.all(equal: GroupID(rawValue: UInt32(nobody)))
        }
        try require(uid.threads >= live - 1 && gid.threads >= live - 1, "the report counts \(uid.threads) threads, fewer than the \(live) live ones")
        return
            "\(checked) threads at uid/gid 65534 per /proc (setresgid reached \(gid.threads) in \(gid.rounds) rounds, setresuid \(uid.threads) in \(uid.rounds))"
    }

    /// A thread that blocks the signal with raw rt_sigprocmask: the broadcast
    /// fails as unreachable within the deadline, naming it, and nothing changes.
    static func blockedSignal(_ args: ScenarioArguments) throws -> String {
        let timeout = try args.int("timeout-ms", default: 300)
        try ThreadCrowd.start(count: try args.int("threads", default: 30))
        let blocker = try SpecialThreads.signalBlocker(kernelSignal: KernelSignal.setxid.rawValue)
        let start = ContinuousClock.now
        let issue = try expectUnreachable(blocker, .signalBlocked) {
            try Broadcast.syscall(.setresuid, nobody, nobody, nobody, options: BroadcastOptions(timeout: .milliseconds(timeout)))
        }
        let elapsed = ContinuousClock.now - start
        try require(elapsed < .milliseconds(timeout) + .seconds(2), "took \(elapsed) for a \(timeout) ms deadline")
        let checked = try verifyEveryThread("unchanged (uid 0)") { $0.credentials.uids.all(equal: UserID(rawValue: 0)) }
        return "unreachable after \(elapsed) (deadline \(timeout) ms): \(issue); no thread changed: \(checked) threads still uid 0 per /proc"
    }

    /// A thread whose seccomp filter makes the call fail with EPERM: mismatch naming it.
    static func seccompMismatch(_ args: ScenarioArguments) throws -> String {
        try ThreadCrowd.start(count: try args.int("threads", default: 30))
        let odd = try SpecialThreads.seccompErrno(syscall: SystemCall.setresgid.rawValue, errno: Errno.notPermitted.rawValue)
        do {
            try Broadcast.syscall(.setresgid, 0, 0, 0)
            throw ScenarioFailure(description: "the broadcast succeeded although tid \(odd) fails the call")
        } catch let error as AllThreadsError {
            guard case .mismatch(let caller, let threads) = error.kind else { throw ScenarioFailure(description: "expected mismatch, got \(error)") }
            try require(caller.rawValue == 0, "the caller's result is \(caller)")
            try require(threads.map(\.tid) == [odd], "mismatch names \(threads.map(\.tid)), expected only \(odd)")
            try require(threads[0].result?.errno == .notPermitted, "tid \(odd) result \(String(describing: threads[0].result)), expected EPERM")
            let state = try ThreadState.read(pid: getpid(), tid: odd)
            try require(state.credentials.seccomp == .filter, "tid \(odd) shows Seccomp \(state.credentials.seccomp)")
            return "mismatch: \(error)"
        }
    }

    /// The abort policy: a mismatch prints the disagreeing thread and aborts the
    /// process, as glibc and Go do. Prints the odd tid first so the test can match it.
    static func mismatchAbort(_ args: ScenarioArguments) throws -> String {
        try ThreadCrowd.start(count: 10)
        let odd = try SpecialThreads.seccompErrno(syscall: SystemCall.setresgid.rawValue, errno: Errno.notPermitted.rawValue)
        FileHandle.standardOutput.write(Data("odd tid \(odd)\n".utf8))
        try Broadcast.syscall(.setresgid, 0, 0, 0, options: BroadcastOptions(onMismatch: .abort))
        throw ScenarioFailure(description: "the process survived a mismatch under the abort policy")
    }

    /// The main thread calls pthread_exit and stays a zombie: broadcasts from
    /// another thread skip it, report it, and reach every other thread.
    static func zombieMain(_ args: ScenarioArguments) throws -> String {
        try ThreadCrowd.start(count: 10, kinds: [.pthreadPause, .swiftThread, .dispatchQueue])
        afterMainThreadExits("zombie-main") {
            let pid = getpid()
            for _ in 0..<1000 where (try? ThreadState.read(pid: pid, tid: pid).state) != "Z" { usleep(1000) }
            try require(try ThreadState.read(pid: pid, tid: pid).state == "Z", "the main thread did not become a zombie")
            let report = try broadcastTimerSlack(110_000)
            try require(
                report.skipped.map(\.tid) == [pid] && report.skipped[0].reason == .zombieMainThread,
                "the zombie main thread was not reported as skipped: \(report.skipped)")
            let checked = try verifyEveryThread("at slack 110000") { $0.timerSlack == .nanoseconds(110_000) }
            let again = try broadcastTimerSlack(110_001)
            try require(again.rounds == 1, "the second broadcast needed \(again.rounds) rounds: the zombie was not remembered")
            return "\(report.threads) threads reached, main thread \(pid) skipped as \(report.skipped[0].reason); \(checked) threads verified "
                + TortureScenarios.tally(runs: 2, threads: checked)
        }
    }

    /// Runs `body` on a new thread while the main thread calls pthread_exit (and stays a zombie),
    /// prints "PASS name: summary" or "FAIL name: error" and exits the process with 0 or 1.
    static func afterMainThreadExits(_ name: String, _ body: @escaping @Sendable () throws -> String) -> Never {
        Thread {
            do {
                FileHandle.standardOutput.write(Data("PASS \(name): \(try body())\n".utf8))
                exit(0)
            } catch {
                FileHandle.standardOutput.write(Data("FAIL \(name): \(error)\n".utf8))
                exit(1)
            }
        }.start()
        pthread_exit(nil)
    }

    /// A caller frozen past its deadline (here: its own call sleeps 3 s) cannot hold
    /// the other threads forever: they give up 2 s after the deadline without running
    /// the call, and the broadcast reports each of them as having no result.
    static func heldDeadline(_ args: ScenarioArguments) throws -> String {
        try ThreadCrowd.start(count: 10, kinds: [.pthreadPause, .pthreadFutex, .swiftThread])
        try broadcastTimerSlack(120_000)
        var sleep = timespec(tv_sec: 3, tv_nsec: 0)
        let others = try ProcessSnapshot.current().threads.count - 1
        let start = ContinuousClock.now
        do {
            _ = try withUnsafePointer(to: &sleep) { ts in
                try Broadcast.syscall(SystemCall(rawValue: Int(SYS_nanosleep)), Int(bitPattern: ts), 0, options: BroadcastOptions(timeout: .milliseconds(300)))
            }
            throw ScenarioFailure(description: "the broadcast succeeded although every held thread gave up")
        } catch let error as AllThreadsError {
            guard case .incomplete(let threads) = error.kind else { throw ScenarioFailure(description: "expected incomplete, got \(error)") }
            try require(
                threads.count == others && threads.allSatisfy { $0.result == nil },
                "expected all \(others) other threads without a result, got \(threads.prefix(3))")
        }
        let elapsed = ContinuousClock.now - start
        try require(elapsed < .seconds(6), "took \(elapsed)")
        // Threads that gave up never run the call. Had they been held until the caller
        // published RUN, they would now sleep 3 s in the handler, and the next broadcast
        // would have to wait for them first.
        let next = try broadcastTimerSlack(120_001)
        try require(next.elapsed < .milliseconds(1500), "the next broadcast waited \(next.elapsed): held threads ran the call after giving up")
        let checked = try verifyEveryThread("at slack 120001") { $0.timerSlack == .nanoseconds(120_001) }
        return
            "the caller's own call took 3 s: all \(others) held threads gave up at deadline + 2 s and were reported without a result (\(elapsed)); the next broadcast reached \(checked) threads"
    }

    /// Threads created and exiting all the time; after each broadcast every live thread has the new value.
    static func churn(_ args: ScenarioArguments) throws -> String {
        let rounds = try args.int("rounds", default: 200)
        try ThreadCrowd.start(count: try args.int("threads", default: 20))
        try ThreadChurn.start(creators: try args.int("creators", default: 2))
        defer { ThreadChurn.stop() }
        var checks = 0, maxRounds = 0
        for round in 1...rounds {
            let slack = 50_000 + round
            let report = try broadcastTimerSlack(slack)
            maxRounds = max(maxRounds, report.rounds)
            checks += try verifyEveryThread("at timer slack \(slack) after round \(round)") { thread in
                thread.timerSlack.map { $0 == .nanoseconds(slack) } ?? true
            }
        }
        return "\(rounds) broadcasts, \(ThreadChurn.created) threads created meanwhile, \(checks) thread checks, 0 misses, up to \(maxRounds) signalling rounds"
    }

    /// Threads calling malloc/free and stdio in tight loops while broadcasts run: no deadlock.
    static func mallocStorm(_ args: ScenarioArguments) throws -> String {
        let rounds = try args.int("rounds", default: 200)
        for _ in 0..<4 { _ = try SpecialThreads.busy(.malloc) }
        for _ in 0..<2 { _ = try SpecialThreads.busy(.stdio) }
        try ThreadCrowd.start(count: 10)
        for round in 1...rounds { try broadcastTimerSlack(60_000 + round) }
        let checked = try verifyEveryThread("at the last timer slack") { $0.timerSlack == .nanoseconds(60_000 + rounds) }
        return "\(rounds) broadcasts with 6 threads in malloc/stdio loops; \(checked) threads verified "
            + TortureScenarios.tally(runs: rounds, threads: checked)
    }

    /// glibc's own setresuid broadcast running in a loop on another thread while we broadcast.
    static func glibcInterleave(_ args: ScenarioArguments) throws -> String {
        let rounds = try args.int("rounds", default: 200)
        try ThreadCrowd.start(count: 20)
        let glibcCalls = Counter()
        let stop = Flag()
        let done = DispatchSemaphore(value: 0)
        let caller = Thread {
            while !stop.isSet {
                if cw_glibc_setresuid(0, 0, 0) != 0 { break }
                glibcCalls.increment()
            }
            done.signal()
        }
        caller.start()
        for round in 1...rounds { try broadcastTimerSlack(70_000 + round) }
        stop.set()
        try require(done.wait(timeout: .now() + 10) == .success, "glibc's setresuid loop did not stop: it is stuck")
        try require(glibcCalls.value > 0, "glibc's setresuid never completed")
        try require(cw_glibc_setresuid(0, 0, 0) == 0, "glibc's setresuid fails after the run")
        let checked = try verifyEveryThread("at the last timer slack") { $0.timerSlack == .nanoseconds(70_000 + rounds) }
        return "\(rounds) broadcasts alongside \(glibcCalls.value) glibc setresuid calls; \(checked) threads verified "
            + TortureScenarios.tally(runs: rounds, threads: checked)
    }

    /// Eight threads broadcasting at once: every broadcast succeeds.
    static func concurrent(_ args: ScenarioArguments) throws -> String {
        let broadcasters = try args.int("broadcasters", default: 8)
        let rounds = try args.int("rounds", default: 25)
        try ThreadCrowd.start(count: 20)
        let failures = Failures()
        let finished = DispatchSemaphore(value: 0)
        for b in 0..<broadcasters {
            Thread {
                for round in 0..<rounds {
                    do { try broadcastTimerSlack(80_000 + b * 1000 + round) } catch { failures.add("broadcaster \(b) round \(round): \(error)") }
                }
                finished.signal()
            }.start()
        }
        for _ in 0..<broadcasters {
            try require(finished.wait(timeout: .now() + 120) == .success, "a broadcaster did not finish")
        }
        try require(failures.all.isEmpty, failures.all.prefix(5).joined(separator: "; "))
        let values = Set(try ProcessSnapshot.current().threads.compactMap(\.timerSlack))
        try require(values.count == 1, "threads disagree after the last broadcast: \(values.sorted())")
        return "\(broadcasters) threads x \(rounds) broadcasts at once, all succeeded; every thread agrees on \(values.first!)"
    }

    /// Another process sends our signal (forged SI_QUEUE with our pid, and plain
    /// sigqueue) while we are idle and while we broadcast: no call runs for it.
    static func forgedSignal(_ args: ScenarioArguments) throws -> String {
        let rounds = try args.int("rounds", default: 100)
        try ThreadCrowd.start(count: 20)
        try broadcastTimerSlack(90_000)  // installs the handler
        let before = EngineStatistics.current
        let forger = try spawnForger(count: try args.int("signals", default: 4000))
        defer { forger.terminate() }
        // Idle: wait (bounded) until the forger has sent everything.
        forger.waitUntilExit()
        try require(forger.terminationStatus == 0, "the forger failed with status \(forger.terminationStatus)")
        let idle = EngineStatistics.current
        try require(idle.handlerRuns == before.handlerRuns, "\(idle.handlerRuns - before.handlerRuns) calls ran from forged signals while idle")
        try require(idle.notOurs > before.notOurs, "no forged signal arrived; the test proves nothing")
        try verifyEveryThread("at slack 90000 (idle forgeries changed nothing)") { $0.timerSlack == .nanoseconds(90_000) }

        // Running: broadcasts while the forger keeps sending, until it has
        // landed at least 200 deliveries during them (bounded by a round count).
        let busyForger = try spawnForger(count: 10_000_000)
        defer { busyForger.terminate() }
        for _ in 0..<1000 where EngineStatistics.current.notOurs == idle.notOurs { usleep(1000) }
        var expectedRuns: UInt64 = 0
        var round = 0
        while round < rounds || (EngineStatistics.current.notOurs - idle.notOurs < 200 && round < 200 * rounds) {
            round += 1
            let report = try broadcastTimerSlack(90_000 + round)
            expectedRuns += UInt64(report.threads - 1)
            // A forged index accepted by one thread would take another thread's slot,
            // and that thread would miss this round: check every thread's own value.
            try verifyEveryThread("at slack \(90_000 + round) despite the forgeries") { $0.timerSlack == .nanoseconds(90_000 + round) }
        }
        let after = EngineStatistics.current
        busyForger.terminate()
        let ran = after.handlerRuns - idle.handlerRuns
        try require(ran == expectedRuns, "handlers ran the call \(ran) times; the broadcasts sent it \(expectedRuns) times")
        try require(after.notOurs - idle.notOurs >= 200, "only \(after.notOurs - idle.notOurs) forged signals arrived during the broadcasts")
        try verifyEveryThread("at the last slack") { $0.timerSlack == .nanoseconds(90_000 + round) }
        return
            "forged signals ignored: idle \(idle.notOurs - before.notOurs) deliveries, 0 runs; busy: \(ran) runs = \(expectedRuns) sent by \(round) broadcasts, \(after.notOurs - idle.notOurs) foreign deliveries ignored "
            + TortureScenarios.tally(runs: round, threads: Int(expectedRuns) / max(round, 1) + 1, wrong: Int(ran) - Int(expectedRuns))
    }

    /// Starts this executable as `forge`, aimed at this process.
    private static func spawnForger(count: Int) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        process.arguments = ["forge", "--pid", "\(getpid())", "--count", "\(count)"]
        try process.run()
        return process
    }

    /// The forger: sends signal 33 to every thread of `--pid`, as SI_QUEUE with
    /// a forged si_pid and random or plausible si_value, and with sigqueue.
    static func forge(_ args: ScenarioArguments) throws -> String {
        let pid = Int32(try args.int("pid", default: 0))
        let count = try args.int("count", default: 1000)
        try require(pid > 0 && pid != getpid(), "--pid must name another process")
        var rng = SystemRandomNumberGenerator()
        var sent = 0
        while sent < count {
            let tids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []).compactMap { Int32($0) }
            try require(!tids.isEmpty, "process \(pid) is gone")
            for (i, tid) in tids.enumerated() where sent < count {
                // Half random values, half a random token over a valid slot index chosen at
                // random: accepted, it would make this thread take another thread's slot.
                let guess: UInt64 = i % 2 == 0 ? rng.next() : (rng.next() << 22) | (rng.next() % UInt64(tids.count))
                _ = cw_forge_signal(pid, tid, 33, pid, guess)
                _ = cb_syscall(Int(SYS_tgkill), Int(pid), Int(tid), 33, 0, 0, 0)  // and tgkill: si_code SI_TKILL with the forger's own pid
                sent += 2
            }
            sigqueue(pid, 33, sigval(sival_int: 7))
            sent += 1
        }
        return "sent \(sent) forged signals to \(pid)"
    }

    /// A child forked after a broadcast broadcasts in its own right.
    static func forkChild(_ args: ScenarioArguments) throws -> String {
        try ThreadCrowd.start(count: 10, kinds: [.pthreadPause, .pthreadFutex])
        try broadcastTimerSlack(100_000)
        let child = fork()
        if child == 0 {
            // Only this thread exists here; it starts plain pthreads and broadcasts.
            let code: Int32
            do {
                try ThreadCrowd.start(count: 5, kinds: [.pthreadPause])
                let report = try broadcastTimerSlack(100_001)
                let snapshot = try ProcessSnapshot.current()
                let ok = report.threads == 6 && snapshot.threads.count == 6 && snapshot.threads.allSatisfy { $0.timerSlack == .nanoseconds(100_001) }
                code = ok ? 0 : 3
            } catch {
                code = 4
            }
            _exit(code)
        }
        try require(child > 0, "fork failed")
        var status: Int32 = 0
        var waited: pid_t = 0
        for _ in 0..<2000 where waited == 0 {  // at most ~20 s
            waited = waitpid(child, &status, WNOHANG)
            if waited == 0 { usleep(10_000) }
        }
        if waited == 0 { kill(child, SIGKILL); waitpid(child, &status, 0) }
        try require(waited == child, "the forked child did not finish: it hangs")
        let exitCode = (status >> 8) & 0xff
        try require(status & 0x7f == 0 && exitCode == 0, "the forked child failed (status \(status), exit \(exitCode))")
        let checked = try verifyEveryThread("at slack 100000 in the parent") { $0.timerSlack == .nanoseconds(100_000) }
        try broadcastTimerSlack(100_002)
        return "forked child broadcast to its 6 threads and verified them; parent's \(checked) threads untouched and it broadcasts again"
    }
}

/// A counter shared between threads.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}

/// A flag set once, read from other threads.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var raised = false
    func set() { lock.withLock { raised = true } }
    var isSet: Bool { lock.withLock { raised } }
}

/// Failure messages collected from several threads.
final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [String] = []
    func add(_ message: String) { lock.withLock { messages.append(message) } }
    var all: [String] { lock.withLock { messages } }
}
