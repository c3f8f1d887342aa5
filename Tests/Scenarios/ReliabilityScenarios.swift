import AllThreads
import AllThreadsCLISupport
import AllThreadsFaults
import CBroadcast
import CFaults
import CWorkload
import Foundation
import Glibc
import SystemPackage

/// Workloads that broke relaxed mode, the lock across fork, and late handlers: each runs in
/// strict and in relaxed mode (`--mode`) and checks every thread itself, from /proc and (for
/// threads too short-lived for /proc) from inside the thread.
enum ReliabilityScenarios {
    static let all: [String: Scenario] = [
        "torture-births": births,
        "late-handler": lateHandler,
        "fork-lock": forkLock,
    ]

    /// Swift tasks sleeping and waking, Dispatch work, long-lived threads of every kind, and a
    /// thread that starts a pthread living ~200 µs every ~300 µs. From inside a `Task`, each
    /// call flips the effective gid between 4242 and 0 on every thread; after each success
    /// /proc must show it on every thread, and every short-lived child checks its own gid.
    /// The slowest call is reported.
    static func births(_ args: ScenarioArguments) throws -> String {
        let calls = try args.int("calls", default: 1000)
        let timeout = try args.int("timeout-ms", default: 5000)
        let mode = try args.mode()
        let stop = Flag()
        defer { stop.set() }
        try startBirths(until: stop)
        defer { cw_births_stop() }

        let outcome = BirthsOutcome()
        let finished = DispatchSemaphore(value: 0)
        Task {
            outcome.flip(calls: calls, options: BroadcastOptions(timeout: .milliseconds(timeout), mode: mode))
            finished.signal()
        }
        finished.wait()
        let children = cw_births_count()
        try require(children.checked > 0, "no child checked itself: the workload did not run")
        try require(
            outcome.errors.isEmpty && outcome.misses == 0 && children.wrong == 0,
            "\(outcome.errors.count) errors (first: \(outcome.errors.first ?? "-")), \(outcome.misses) threads with another gid in /proc, "
                + "\(children.wrong) of \(children.checked) child self-checks wrong")
        return "\(mode): \(calls) calls, \(children.born) threads born meanwhile, \(outcome.checks) /proc checks, "
            + "\(children.checked) child self-checks "
            + TortureScenarios.tally(
                runs: calls, threads: outcome.most, misses: outcome.misses + Int(children.wrong),
                slowest: outcome.slowest)
    }

    /// The births workload: 16 long-lived threads of every kind, Swift tasks waking every
    /// 300 µs and Dispatch bursts until `stop` is set, and a pthread living ~200 µs born every
    /// ~300 µs (until cw_births_stop()).
    static func startBirths(until stop: Flag) throws {
        try ThreadCrowd.start(count: 16)
        for _ in 0..<6 {
            Task.detached { while !stop.isSet { try? await Task.sleep(for: .microseconds(300)) } }
        }
        Thread { while !stop.isSet { DispatchQueue.concurrentPerform(iterations: 4) { _ in usleep(100) } } }.start()
        let started = cw_births_start(300, 200, getegid())
        try require(started == 0, "could not start births: \(Errno(rawValue: -started))")
    }

    /// A call that outlives its deadline: every thread blocks in `read` on a pipe inside its
    /// handler. The error must name those threads; the next broadcast starts at once, while
    /// their late handlers finish, and must still reach every thread (checked from /proc).
    static func lateHandler(_ args: ScenarioArguments) throws -> String {
        let rounds = try args.int("rounds", default: 20)
        let mode = try args.mode()
        try ThreadCrowd.start(count: 12)
        var named = 0
        for round in 1...rounds {
            let pipe = try FileDescriptor.pipe()
            defer { try? pipe.readEnd.close(); try? pipe.writeEnd.close() }
            _ = try pipe.writeEnd.writeAll([0x2a])  // the caller's byte; every other thread blocks
            let late = try blockedBroadcast(reading: pipe.readEnd, mode: mode)
            try require(!late.isEmpty, "round \(round): the error names no thread that was still running the call")
            named += late.count
            // Let the late handlers finish while the next broadcast begins.
            _ = try pipe.writeEnd.writeAll([UInt8](repeating: 0x2a, count: late.count))
            let slack = 400_000 + round
            try broadcastTimerSlack(slack, options: BroadcastOptions(mode: mode))
            try verifyEveryThread("at slack \(slack)") { $0.timerSlack == .nanoseconds(slack) }
        }
        return "\(mode): \(rounds) rounds, \(named) late handlers named, each next broadcast reached every thread "
            + TortureScenarios.tally(runs: 2 * rounds, threads: ThreadCrowd.liveThreadCount())
    }

    /// Runs `read(fd, buffer, 1)` on every thread with a 100 ms deadline, expecting the
    /// deadline to pass while threads block in it; returns the threads named as still running.
    private static func blockedBroadcast(reading fd: FileDescriptor, mode: BroadcastMode) throws -> [Int32] {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)
        // Late handlers write into it after this function returns: it is never freed.
        let options = BroadcastOptions(timeout: .milliseconds(100), mode: mode)
        do throws(AllThreadsError) {
            try Broadcast.syscall(SystemCall(rawValue: Int(SYS_read)), Int(fd.rawValue), Int(bitPattern: buffer), 1, options: options)
        } catch {
            switch (error.kind, mode) {
            case (.unreachableAfterChange(let threads), .relaxed):
                return threads.filter { $0.reason == .stillRunning }.map(\.tid)
            case (.incomplete(let threads), .strict):
                return threads.filter { $0.result == nil }.map(\.tid)
            default:
                throw ScenarioFailure(description: "expected the deadline to pass while threads still ran the call, got \(error)")
            }
        }
        throw ScenarioFailure(description: "a broadcast of a call that blocks every thread but the caller met its deadline")
    }

    /// Children made with `_Fork()` and a raw `clone` while another thread broadcasts in a
    /// loop (so the lock is held when they are made) must broadcast at once in the child; a
    /// vfork child, which shares the parent's memory, changes only itself when it can prove it
    /// is alone and is refused when it cannot, and the parent's engine still reaches every
    /// thread (checked from /proc).
    static func forkLock(_ args: ScenarioArguments) throws -> String {
        let rounds = try args.int("rounds", default: 40)
        try ThreadCrowd.start(count: 8)
        let stop = Flag(), stopped = DispatchSemaphore(value: 0)
        let failures = Failures()
        Thread {
            var slack = 500_000
            while !stop.isSet {
                slack += 1
                do { try broadcastTimerSlack(slack) } catch { failures.add("broadcaster: \(error)") }
            }
            stopped.signal()
        }.start()
        var made = 0
        for kind in [CW_CHILD_FORK, CW_CHILD_RAW_CLONE] {
            for _ in 0..<rounds {
                let status = cw_child_broadcast(kind)
                try require(status == Int32(CW_CHILD_OK), "a \(kind) child's broadcast ended with status \(status)")
                made += 1
            }
        }
        stop.set()
        try require(stopped.wait(timeout: .now() + 30) == .success, "the broadcaster did not stop")
        try require(failures.all.isEmpty, failures.all.joined(separator: "; "))
        // A vfork child alone in its thread group changes only itself, touching no shared state;
        // one that cannot prove it is alone (unshare denied, as in containers) is refused.
        let vfork = cw_child_broadcast(CW_CHILD_VFORK)
        try require(vfork == Int32(CW_CHILD_OK), "a vfork child's broadcast ended with status \(vfork)")
        let sandboxed = cw_child_broadcast(CW_CHILD_VFORK_SANDBOXED)
        try require(sandboxed == Int32(CW_CHILD_REFUSED), "a sandboxed vfork child's broadcast ended with status \(sandboxed), not refused")
        try broadcastTimerSlack(777_777)
        let checked = try verifyEveryThread("at slack 777777") { $0.timerSlack == .nanoseconds(777_777) }
        return "\(made) fork and clone children broadcast while the lock was busy; a vfork child alone, a sandboxed one refused; \(checked) threads verified "
            + TortureScenarios.tally(runs: made + 2, threads: checked)
    }
}

/// What the calls of ``ReliabilityScenarios/births(_:)`` found, written by the one task that makes them.
private final class BirthsOutcome: @unchecked Sendable {
    var errors: [String] = []
    var misses = 0, checks = 0, most = 0
    var slowest: Duration = .zero

    func flip(calls: Int, options: BroadcastOptions) {
        for call in 1...calls {
            let gid = GroupID(rawValue: call % 2 == 1 ? 4242 : 0)
            cw_births_unsettle()
            let start = ContinuousClock.now
            do {
                let report = try Broadcast.run(.setresgid(real: nil, effective: gid, saved: nil), options: options)
                slowest = max(slowest, ContinuousClock.now - start)
                cw_births_settle(gid.rawValue)
                most = max(most, report.threads)
                let threads = try ProcessSnapshot.current().threads.filter { !$0.runsNoCode }
                checks += threads.count
                misses += threads.filter { $0.credentials.gids.effective != gid }.count
            } catch {
                slowest = max(slowest, ContinuousClock.now - start)
                errors.append("call \(call): \(error)")
            }
        }
    }
}

extension ScenarioArguments {
    /// `--mode strict|relaxed` (default strict).
    func mode() throws(ScenarioFailure) -> BroadcastMode {
        switch values["mode"] ?? "strict" {
        case "strict": return .strict
        case "relaxed": return .relaxed
        case let other: throw ScenarioFailure(description: "--mode takes strict or relaxed, not \(other)")
        }
    }
}
