import AllThreads
import AllThreadsCLISupport
import AllThreadsFaults
import AllThreadsWorkload
import CBroadcast
import CFaults
import CThreadStarter
import CWorkload
import Foundation
import Glibc
import SystemPackage

/// The torture matrix: scenarios that try hard to break the engine's promises,
/// each ending its summary with a tally the runner (``TortureRunner``) reads.
enum TortureScenarios {
    static let all: [String: Scenario] = [
        "torture-churn": churn,
        "torture-scale": scale,
        "fault-blocked": blocked,
        "fault-traced": traced,
        "fault-uninterruptible": uninterruptible,
        "fault-queue-full": queueFull,
        "interfere-handler": handlerReplaced,
        "interfere-processes": processMakers,
        "odd-io-uring": ioUring,
        "odd-stacks": stacks,
        "mismatch-subset": mismatchSubset,
        "ptrace-helper": ptraceHelper,
    ]

    /// The tally line the runner parses: broadcasts run, most threads seen,
    /// threads that missed a change, calls run where they must not be, and the slowest call.
    static func tally(runs: Int, threads: Int, misses: Int = 0, wrong: Int = 0, slowest: Duration? = nil) -> String {
        let slowestField =
            slowest.map { " slowest=\(String(format: "%.2fms", Double($0.components.attoseconds) / 1e15 + Double($0.components.seconds) * 1e3))" } ?? ""
        return "[runs=\(runs) threads=\(threads) misses=\(misses) wrong=\(wrong)\(slowestField)]"
    }

    /// Every thread's timer slack, to show that a failed broadcast changed nothing.
    static func slacks() throws -> [Int32: Duration] {
        Dictionary(
            uniqueKeysWithValues: try ProcessSnapshot.current().threads.compactMap { t in
                t.timerSlack.map { (t.tid, $0) }
            })
    }

    /// Requires a failed broadcast to have changed no thread: every slack is still `value`.
    static func requireUnchanged(_ value: UInt64) throws {
        let changed = try slacks().filter { $0.value != .nanoseconds(value) }
        try require(changed.isEmpty, "a failed broadcast changed threads \(changed.keys.sorted())")
    }

    /// The write-syscall counter of one thread (`syscw` in /proc/self/task/<tid>/io).
    static func writeCount(_ tid: Int32) -> UInt64? {
        guard let text = try? String(contentsOfFile: "/proc/self/task/\(tid)/io", encoding: .utf8) else { return nil }
        return text.split(separator: "\n").first { $0.hasPrefix("syscw:") }.flatMap { UInt64($0.dropFirst(6).trimmingCharacters(in: .whitespaces)) }
    }

    /// Every live thread's write counter.
    static func writeCounts() throws -> [Int32: UInt64] {
        var counts: [Int32: UInt64] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") {
            if let tid = Int32(name), let count = writeCount(tid) { counts[tid] = count }
        }
        return counts
    }

    /// Threads created and exiting all the time (pthreads and Dispatch bursts). Each
    /// round sets the timer slack (every live thread must have it) and makes every
    /// thread write one byte to /dev/null: a non-idempotent call whose per-thread
    /// count the kernel keeps, so a miss and a double run both show.
    static func churn(_ args: ScenarioArguments) throws -> String {
        let rounds = try args.int("rounds", default: 1000)
        try ThreadCrowd.start(count: 20)
        try ThreadChurn.start(creators: 2)
        defer { ThreadChurn.stop() }
        let stop = Flag()
        Thread {
            while !stop.isSet { DispatchQueue.concurrentPerform(iterations: 8) { _ in usleep(200) } }
        }.start()
        defer { stop.set() }
        let devNull = try FileDescriptor.open("/dev/null", .writeOnly)
        let byte: [UInt8] = [0x2a]
        var misses = 0, wrong = 0, checks = 0, most = 0
        for round in 1...rounds {
            let slack = 200_000 + round
            try broadcastTimerSlack(slack)
            let states = try ProcessSnapshot.current().threads.filter { !$0.runsNoCode }
            misses += states.filter { $0.timerSlack.map { $0 != .nanoseconds(slack) } ?? false }.count
            let before = try writeCounts()
            let report = try byte.withUnsafeBufferPointer { buffer in
                try Broadcast.syscall(SystemCall(rawValue: Int(SYS_write)), Int(devNull.rawValue), Int(bitPattern: buffer.baseAddress), 1)
            }
            let after = try writeCounts()
            for (tid, count) in after {
                checks += 1
                if let old = before[tid] {
                    if count == old { misses += 1 } else if count > old + 1 { wrong += 1 }
                } else if count > 1 {
                    wrong += 1  // a thread new since `before` ran it twice
                }
            }
            most = max(most, report.threads)
        }
        try require(misses == 0 && wrong == 0, "\(misses) misses and \(wrong) double runs in \(checks) checks")
        return "\(rounds) rounds x 2 broadcasts, \(ThreadChurn.created) threads created meanwhile, \(checks) write-counter checks "
            + tally(runs: 2 * rounds, threads: most, misses: misses, wrong: wrong)
    }

    /// 10,000 threads, all reached; the time is printed.
    static func scale(_ args: ScenarioArguments) throws -> String {
        let count = try args.int("threads", default: 10_000)
        for _ in 0..<count {
            let tid = ts_start_idle_thread(TS_IDLE_PAUSE)
            try require(tid > 0, "could not start thread: \(Errno(rawValue: -tid))")
        }
        let options = BroadcastOptions(timeout: .seconds(60))
        let first = try broadcastTimerSlack(300_001, options: options)
        let strict = try broadcastTimerSlack(300_002, options: options)
        let relaxed = try broadcastTimerSlack(300_003, options: BroadcastOptions(timeout: .seconds(60), mode: .relaxed))
        let checked = try verifyEveryThread("at slack 300003") { $0.timerSlack == .nanoseconds(300_003) }
        try require(checked >= count + 1 && strict.threads == count + 1, "reached \(strict.threads) of \(count + 1) threads")
        return
            "\(checked) threads: first broadcast \(first.elapsed) (\(first.rounds) rounds, scans /proc), strict \(strict.elapsed), relaxed \(relaxed.elapsed) "
            + tally(runs: 3, threads: checked)
    }

    /// A thread blocks the signal with raw rt_sigprocmask: unreachable, nothing
    /// changes; once it unblocks, the next broadcast works.
    static func blocked(_ args: ScenarioArguments) throws -> String {
        try ThreadCrowd.start(count: 30)
        try broadcastTimerSlack(400_000)
        let tid = try SpecialThreads.signalBlocker(kernelSignal: KernelSignal.setxid.rawValue)
        let issue = try expectUnreachable(tid, .signalBlocked) { try broadcastTimerSlack(400_001, options: BroadcastOptions(timeout: .milliseconds(300))) }
        try requireUnchanged(400_000)
        cw_release_signal_blockers()
        let report = try broadcastTimerSlack(400_002)
        let checked = try verifyEveryThread("at slack 400002 after the fault cleared") { $0.timerSlack == .nanoseconds(400_002) }
        return "\(issue); no thread changed; after unblocking: \(report.threads) threads reached " + tally(runs: 2, threads: checked)
    }

    /// A thread stopped by a tracer in another process: unreachable (stopped),
    /// nothing changes; after the tracer detaches, the next broadcast works.
    static func traced(_ args: ScenarioArguments) throws -> String {
        try ThreadCrowd.start(count: 30)
        try broadcastTimerSlack(500_000)
        let tid = try SpecialThreads.idle(.pause)
        let tracer = Process()
        tracer.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        tracer.arguments = ["ptrace-helper", "--tid", "\(tid)"]
        let toTracer = Pipe(), fromTracer = Pipe()
        tracer.standardInput = toTracer
        tracer.standardOutput = fromTracer
        try tracer.run()
        defer { tracer.terminate() }
        let line = String(decoding: fromTracer.fileHandleForReading.availableData, as: UTF8.self)
        try require(line.hasPrefix("stopped"), "the tracer could not stop tid \(tid): \(line)")
        let issue = try expectUnreachable(tid, .stopped) { try broadcastTimerSlack(500_001, options: BroadcastOptions(timeout: .milliseconds(300))) }
        try requireUnchanged(500_000)
        toTracer.fileHandleForWriting.write(Data("detach\n".utf8))
        tracer.waitUntilExit()
        try require(tracer.terminationStatus == 0, "the tracer failed to detach")
        try broadcastTimerSlack(500_002)
        let checked = try verifyEveryThread("at slack 500002 after the tracer left") { $0.timerSlack == .nanoseconds(500_002) }
        return "\(issue); no thread changed; after the tracer detached all \(checked) threads reached " + tally(runs: 2, threads: checked)
    }

    /// The tracer: stops `--tid` with ptrace, says "stopped", detaches on any input.
    static func ptraceHelper(_ args: ScenarioArguments) throws -> String {
        let tid = Int32(try args.int("tid", default: 0))
        let r = cw_ptrace_stop(tid)
        try require(r == 0, "ptrace stop of \(tid): \(Errno(rawValue: -r))")
        FileHandle.standardOutput.write(Data("stopped \(tid)\n".utf8))
        _ = FileHandle.standardInput.availableData
        let d = cw_ptrace_detach(tid)
        try require(d == 0, "ptrace detach of \(tid): \(Errno(rawValue: -d))")
        return "detached \(tid)"
    }

    /// A thread in uninterruptible sleep (vfork parent): unreachable, nothing
    /// changes; once it wakes, the next broadcast works.
    static func uninterruptible(_ args: ScenarioArguments) throws -> String {
        try ThreadCrowd.start(count: 30)
        try broadcastTimerSlack(600_000)
        let tid = cw_start_vfork_sleeper(1500)
        try require(tid > 0, "vfork sleeper: \(tid)")
        let pid = getpid()
        func state() -> Character? { try? ThreadState.read(pid: pid, tid: tid).state }
        for _ in 0..<500 where state() != "D" { usleep(2000) }
        try require(state() == "D", "the vfork parent is in state \(String(describing: state())), not D")
        let issue = try expectUnreachable(tid, .uninterruptible) { try broadcastTimerSlack(600_001, options: BroadcastOptions(timeout: .milliseconds(300))) }
        try requireUnchanged(600_000)
        for _ in 0..<1500 where state() == "D" { usleep(2000) }
        try require(state() != "D", "the vfork parent never woke")
        try broadcastTimerSlack(600_002)
        let checked = try verifyEveryThread("at slack 600002 after the sleep ended") { $0.timerSlack == .nanoseconds(600_002) }
        return "\(issue); no thread changed; once awake all \(checked) threads reached " + tally(runs: 2, threads: checked)
    }

    /// RLIMIT_SIGPENDING at 0: no signal can be queued, every thread is unreachable
    /// (queue full) and nothing changes. At a small limit the engine retries as
    /// deliveries free entries, and succeeds. Restored: works at full speed.
    static func queueFull(_ args: ScenarioArguments) throws -> String {
        try ThreadCrowd.start(count: 20)
        try broadcastTimerSlack(700_000)
        let saved = cw_set_sigpending_limit(0)
        try require(saved >= 0, "could not lower RLIMIT_SIGPENDING: \(saved)")
        var unreachable: [ThreadIssue] = []
        do {
            try broadcastTimerSlack(700_001, options: BroadcastOptions(timeout: .milliseconds(300)))
        } catch let error as AllThreadsError {
            guard case .unreachable(let threads) = error.kind else { throw ScenarioFailure(description: "expected unreachable, got \(error)") }
            unreachable = threads
        }
        let others = try slacks().count - 1
        try require(
            unreachable.count == others && unreachable.allSatisfy { $0.reason == .signalQueueFull },
            "expected all \(others) other threads unreachable with a full queue, got \(unreachable.prefix(3))")
        try requireUnchanged(700_000)
        _ = cw_set_sigpending_limit(2)
        let slow = try broadcastTimerSlack(700_002)
        _ = cw_set_sigpending_limit(saved)
        try broadcastTimerSlack(700_003)
        let checked = try verifyEveryThread("at slack 700003") { $0.timerSlack == .nanoseconds(700_003) }
        return
            "limit 0: all \(unreachable.count) other threads unreachable (signal queue full), none changed; limit 2: succeeded in \(slow.elapsed) by retrying; restored: all \(checked) reached "
            + tally(runs: 3, threads: checked)
    }

    /// Another library keeps replacing our handler (raw rt_sigaction to SIG_IGN, which
    /// also discards pending deliveries) while broadcasts run: every broadcast still
    /// succeeds, because the engine reinstalls its handler and signals the stragglers
    /// again (without that, about one in seven fails at its deadline). A failure must
    /// at least have changed nothing, and fails the scenario.
    static func handlerReplaced(_ args: ScenarioArguments) throws -> String {
        let rounds = try args.int("rounds", default: 200)
        try ThreadCrowd.start(count: 30)
        try broadcastTimerSlack(800_000)  // ours is in place, chaining to glibc's, before the other library arrives
        let stop = Flag()
        let replacements = Counter()
        let done = DispatchSemaphore(value: 0)
        Thread {
            while !stop.isSet {
                if cw_ignore_signal_raw(33) == 0 { replacements.increment() }
                usleep(500)
            }
            done.signal()
        }.start()
        var failures = 0
        for round in 1...rounds {
            do {
                try broadcastTimerSlack(800_000 + round)
                try verifyEveryThread("at slack \(800_000 + round)") { $0.timerSlack == .nanoseconds(800_000 + round) }
            } catch AllThreadsError.Code.unreachable {
                failures += 1  // allowed, if nothing changed: every thread still agrees
                let values = Set(try slacks().values)
                try require(values.count == 1, "a failed broadcast left threads at \(values.sorted())")
            }
        }
        stop.set()
        _ = done.wait(timeout: .now() + 10)
        try require(failures == 0, "\(failures) of \(rounds) broadcasts timed out: the displaced handler was not put back in time")
        // The next broadcast puts our handler back; glibc's own setxid signals must
        // still reach glibc's handler: the SIG_IGN put in place of ours must not
        // have replaced it in our chain.
        try broadcastTimerSlack(899_998)
        let glibc = DispatchSemaphore(value: 0)
        Thread { if cw_glibc_setresuid(0, 0, 0) == 0 { glibc.signal() } }.start()
        try require(glibc.wait(timeout: .now() + 10) == .success, "glibc's setresuid hangs or fails after the handler was replaced")
        try broadcastTimerSlack(899_999)
        let checked = try verifyEveryThread("at slack 899999") { $0.timerSlack == .nanoseconds(899_999) }
        return
            "\(rounds) broadcasts while the handler was replaced \(replacements.value) times: \(rounds - failures) succeeded, \(failures) failed cleanly; glibc's setresuid still works "
            + tally(runs: rounds + 1, threads: checked)
    }

    /// fork() and posix_spawn() in loops on other threads while broadcasts run.
    static func processMakers(_ args: ScenarioArguments) throws -> String {
        let rounds = try args.int("rounds", default: 200)
        try ThreadCrowd.start(count: 20)
        try require(cw_start_process_makers(2, 1) == 0, "could not start the process makers")
        var most = 0
        for round in 1...rounds {
            most = max(most, try broadcastTimerSlack(900_000 + round).threads)
        }
        let children = cw_stop_process_makers()
        try require(children > 0, "no child process was made")
        let checked = try verifyEveryThread("at the last slack") { $0.timerSlack == .nanoseconds(900_000 + rounds) }
        return "\(rounds) broadcasts while other threads made \(children) processes with fork and posix_spawn; \(checked) threads verified "
            + tally(runs: rounds, threads: most)
    }

    /// io_uring workers (iou-wrk) take no signals: they are skipped and reported.
    static func ioUring(_ args: ScenarioArguments) throws -> String {
        if let disabled = try? String(contentsOfFile: "/proc/sys/kernel/io_uring_disabled", encoding: .utf8),
            disabled.trimmingCharacters(in: .whitespacesAndNewlines) != "0"
        {
            return "SKIPPED: io_uring is disabled on this kernel (io_uring_disabled = \(disabled.trimmingCharacters(in: .whitespacesAndNewlines)))"
        }
        try ThreadCrowd.start(count: 10)
        let ring = cw_start_io_uring_worker()
        if ring == -Int32(ENOSYS) { return "SKIPPED: this kernel has no io_uring" }
        try require(ring >= 0, "io_uring setup: \(Errno(rawValue: -ring))")
        let pid = getpid()
        var workers: [ThreadState] = []
        for _ in 0..<500 where workers.isEmpty {
            workers = try ProcessSnapshot.read(pid: pid).threads.filter(\.isIOWorker)
            if workers.isEmpty { usleep(2000) }
        }
        try require(!workers.isEmpty, "no io_uring worker thread appeared")
        let report = try broadcastTimerSlack(950_000)
        let skipped = Set(report.skipped.filter { $0.reason == .ioWorker }.map(\.tid))
        try require(Set(workers.map(\.tid)).isSubset(of: skipped), "io workers \(workers.map(\.tid)) not all reported as skipped: \(report.skipped)")
        let checked = try verifyEveryThread("at slack 950000") { $0.timerSlack == .nanoseconds(950_000) }
        try broadcastTimerSlack(950_001)
        return "\(workers.count) io_uring worker(s) (\(workers.map(\.name).joined(separator: ", "))) skipped and reported; \(checked) other threads reached "
            + tally(runs: 2, threads: checked)
    }

    /// Threads with the smallest stacks glibc allows and threads with a small
    /// alternate signal stack (our handler runs on it).
    static func stacks(_ args: ScenarioArguments) throws -> String {
        let rounds = try args.int("rounds", default: 200)
        for _ in 0..<20 { try require(cw_start_tiny_stack_thread() > 0, "tiny-stack thread did not start") }
        for _ in 0..<5 { try require(cw_start_altstack_thread(1024) > 0, "alternate-stack thread did not start") }
        try ThreadCrowd.start(count: 10)
        for round in 1...rounds { try broadcastTimerSlack(960_000 + round) }
        let checked = try verifyEveryThread("at the last slack") { $0.timerSlack == .nanoseconds(960_000 + rounds) }
        return
            "\(rounds) broadcasts over 20 threads with \(PTHREAD_STACK_MIN)-byte stacks and 5 on \(sysconf(Int32(_SC_MINSIGSTKSZ)) + 1024)-byte alternate signal stacks; \(checked) threads verified "
            + tally(runs: rounds, threads: checked)
    }

    /// A seccomp filter on a random subset of threads: the mismatch lists exactly that subset.
    static func mismatchSubset(_ args: ScenarioArguments) throws -> String {
        var rng = SplitMix64(seed: UInt64(try args.int("seed", default: 7)))
        try ThreadCrowd.start(count: 30)
        let count = 3 + Int(rng.next() % 8)
        var odd: Set<Int32> = []
        for _ in 0..<count { odd.insert(try SpecialThreads.seccompErrno(syscall: SystemCall.setresgid.rawValue, errno: Errno.notPermitted.rawValue)) }
        do {
            try Broadcast.syscall(.setresgid, 0, 0, 0)
            throw ScenarioFailure(description: "the broadcast succeeded although \(count) threads fail the call")
        } catch let error as AllThreadsError {
            guard case .mismatch(_, let threads) = error.kind else { throw ScenarioFailure(description: "expected mismatch, got \(error)") }
            let named = Set(threads.map(\.tid))
            try require(named == odd, "mismatch names \(named.sorted()), expected exactly \(odd.sorted())")
            try require(threads.allSatisfy { $0.result?.errno == .notPermitted }, "not every named thread failed with EPERM")
            // And /proc agrees: exactly the named threads carry a seccomp filter.
            let filtered = Set(try ProcessSnapshot.current().threads.filter { $0.credentials.seccomp == .filter }.map(\.tid))
            try require(filtered == named, "/proc shows filters on \(filtered.sorted()), the mismatch named \(named.sorted())")
            return "mismatch named exactly the \(count) filtered threads, as /proc shows them " + tally(runs: 1, threads: threads.count)
        }
    }
}
