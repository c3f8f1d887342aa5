import AllThreads
import AllThreadsCLISupport
import AllThreadsFaults
import CBroadcast
import CFaults
import CWorkload
import Foundation
import Glibc
import SystemPackage

/// What real processes do to a broadcast: a thread that traps or dies at a step,
/// a caller that dies inside its own broadcast, a step that blocks while threads are inside
/// malloc, a fork child that reuses the engine's descriptor number, an endless deadline.
/// Each runs in strict and in relaxed mode (`--mode`) and checks every thread through /proc.
enum SurvivalScenarios {
    static let all: [String: Scenario] = [
        "trap-in-step": trapInStep,
        "died-in-handler": diedInHandler,
        "caller-died": callerDied,
        "malloc-inside": mallocInside,
        "fork-fd-reuse": forkDescriptorReuse,
        "endless-deadline": endlessDeadline,
        "deadline-bound": deadlineBound,
        "births-convergence": birthsConvergence,
        "tid-reuse": tidReuse,
        "sqpoll-reuse": sqpollReuse,
        "late-death-reused": lateDeathReused,
        "caller-died-reused": callerDiedReused,
        "pidns-outer-proc": pidNamespaceWithOuterProc,
        "landlock-no-proc": landlockWithoutProc,
        "landlock-zombie-main": landlockZombieMain,
        "pidns-foreign-proc": pidNamespaceWithForeignProc,
    ]

    /// Runs prctl(PR_SET_TIMERSLACK, slack) through the C engine and returns its report's
    /// status, elapsed time and problems (tid, kind, reason).
    static func rawTimerSlack(
        _ slack: Int, timeout: Int64, relaxed: Bool
    ) -> (status: cb_status, elapsed: Duration, problems: [(tid: Int32, kind: Int32, reason: Int32)]) {
        var args = (Int(PR_SET_TIMERSLACK), slack, 0, 0, 0, 0)
        var options = cb_options(timeout_ns: timeout, signal: CB_DEFAULT_SIGNAL, abort_on_mismatch: 0, relaxed: relaxed ? 1 : 0)
        var report = cb_report()
        withUnsafePointer(to: &args) { tuple in
            tuple.withMemoryRebound(to: Int.self, capacity: 6) { cb_broadcast(Int(SYS_prctl), $0, &options, &report) }
        }
        defer { cb_report_free(&report) }
        let problems = UnsafeBufferPointer(start: report.problems, count: Int(report.problem_count)).map { ($0.tid, $0.kind, $0.reason) }
        return (cb_status(rawValue: UInt32(bitPattern: report.status)), .nanoseconds(report.elapsed_ns), problems)
    }

    /// A thread whose seccomp filter answers the step with SECCOMP_RET_TRAP, in a process whose
    /// SIGSYS handler emulates the call: the handler runs inside ours, the emulated call sets the
    /// thread's timer slack, and the broadcast succeeds. (Before: the process died of SIGSYS.)
    static func trapInStep(_ args: ScenarioArguments) throws -> String {
        let mode = try args.mode()
        try ThreadCrowd.start(count: 8)
        try require(cw_install_sigsys_emulator() == 0, "could not install the SIGSYS emulator")
        let slack = 555_555
        let trapped = cw_start_filtered_thread(CW_FILTER_TRAP, Int(SYS_prctl), Int(PR_SET_TIMERSLACK), slack)
        try require(trapped > 0, "could not start the trapping thread: \(trapped)")
        let report = try broadcastTimerSlack(slack, options: BroadcastOptions(mode: mode))
        try require(cw_emulated_calls() == 1, "the emulator ran \(cw_emulated_calls()) times, expected once (on tid \(trapped))")
        let checked = try verifyEveryThread("at slack \(slack)") { $0.timerSlack == .nanoseconds(slack) }
        let state = try ThreadState.read(pid: getpid(), tid: trapped)
        try require(state.credentials.seccomp == .filter, "tid \(trapped) shows Seccomp \(state.credentials.seccomp)")
        return "\(mode): tid \(trapped) trapped at the step, its SIGSYS handler emulated it inside ours; \(report.threads) threads ran it, \(checked) verified"
    }

    /// A thread whose seccomp filter kills it at the step: the broadcast names it as died in
    /// the handler without waiting for its deadline, and the next broadcast works. (Before:
    /// named "still running" at the deadline, and every later broadcast was BUSY.)
    static func diedInHandler(_ args: ScenarioArguments) throws -> String {
        let mode = try args.mode()
        try ThreadCrowd.start(count: 8)
        try broadcastTimerSlack(777_000, options: BroadcastOptions(mode: mode))
        let slack = 777_777
        let victim = cw_start_filtered_thread(CW_FILTER_KILL_THREAD, Int(SYS_prctl), Int(PR_SET_TIMERSLACK), slack)
        try require(victim > 0, "could not start the filtered thread: \(victim)")
        let timeout: Int64 = 3_000_000_000
        let first = rawTimerSlack(slack, timeout: timeout, relaxed: mode == .relaxed)
        try require(first.status == CB_INCOMPLETE, "status \(first.status), expected INCOMPLETE")
        try require(
            first.problems.map(\.tid) == [victim] && first.problems[0].reason == CB_REASON_DIED.rawValue,
            "problems \(first.problems), expected only tid \(victim) as died in the handler")
        try require(first.elapsed < .nanoseconds(timeout), "took \(first.elapsed): waited for the deadline instead of seeing the death")
        try require(cw_wait_thread_gone(victim, 1000) == 0, "tid \(victim) is still alive")
        try require(!FileManager.default.fileExists(atPath: "/proc/self/task/\(victim)"), "tid \(victim) still listed in /proc")
        try verifyEveryThread("at slack \(slack)") { $0.timerSlack == .nanoseconds(slack) }
        let next = try broadcastTimerSlack(slack + 1, options: BroadcastOptions(timeout: .seconds(3), mode: mode))
        try verifyEveryThread("at slack \(slack + 1)") { $0.timerSlack == .nanoseconds(slack + 1) }
        let late = try lateDeath(slack: slack + 2, mode: mode)
        let checked = try verifyEveryThread("at slack \(slack + 3)") { $0.timerSlack == .nanoseconds(slack + 3) }
        return "\(mode): tid \(victim) died at the step, named as died after \(first.elapsed); the next broadcast reached \(next.threads) threads; "
            + "tid \(late) died late, after its broadcast had returned, and the next one did not wait for it; \(checked) verified"
    }

    /// A thread dies inside the handler after its broadcast returned: a two-step program whose
    /// first step blocks past the deadline, and whose second kills the thread once the first is
    /// let go. The next broadcast's drain must bury it, not wait for it. Returns its tid.
    private static func lateDeath(slack: Int, mode: BroadcastMode, reuse: Bool = false) throws -> Int32 {
        let victim = cw_start_filtered_thread(CW_FILTER_KILL_THREAD, Int(SYS_prctl), Int(PR_SET_TIMERSLACK), slack)
        try require(victim > 0, "could not start the filtered thread: \(victim)")
        // Known to the engine before the blocking program (relaxed would otherwise only list
        // it after every other thread had answered): its filter spares this value.
        try broadcastTimerSlack(slack - 1, options: BroadcastOptions(mode: mode))
        var fds: [Int32] = [0, 0]
        try require(pipe(&fds) == 0, "pipe failed")
        defer { close(fds[0]); close(fds[1]) }
        try require(write(fds[1], "*", 1) == 1, "write failed")  // the caller's byte: every other thread blocks
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)  // late handlers write it: never freed
        var steps = [cb_step(), cb_step()]
        steps[0].nr = Int(SYS_read)
        steps[0].args = (Int(fds[0]), Int(bitPattern: buffer), 1, 0, 0, 0)
        steps[1].nr = Int(SYS_prctl)
        steps[1].args = (Int(PR_SET_TIMERSLACK), slack, 0, 0, 0, 0)
        var options = cb_options(timeout_ns: 200_000_000, signal: CB_DEFAULT_SIGNAL, abort_on_mismatch: 0, relaxed: mode == .relaxed ? 1 : 0)
        var report = cb_report()
        cb_broadcast_steps(steps, 2, &options, &report)
        let status = cb_status(rawValue: UInt32(bitPattern: report.status))
        cb_report_free(&report)
        try require(status == CB_INCOMPLETE || status == CB_UNREACHABLE, "the blocked program ended with \(status)")
        let bytes = [UInt8](repeating: 0x2a, count: 4096)
        try require(write(fds[1], bytes, bytes.count) == bytes.count, "could not let the blocked threads go")
        try require(cw_wait_thread_gone(victim, 5000) == 0, "tid \(victim) did not die at the second step")
        if reuse { try reuseTid(victim) }
        let start = ContinuousClock.now
        try broadcastTimerSlack(slack + 1, options: BroadcastOptions(timeout: .seconds(3), mode: mode))
        let elapsed = ContinuousClock.now - start
        try require(elapsed < .seconds(1), "the broadcast after the late death took \(elapsed): it waited for the dead thread")
        return victim
    }

    /// Gives `tid` (gone) to a newborn thread that starts two clock ticks of /proc's starttime
    /// later (ns_last_pid; a private PID namespace), so that its starttime tells it apart, and
    /// runs `body` on it (by default it parks). The kernel frees a number a moment after the
    /// thread is gone (on a loaded machine, more than 20 ms was seen): a newborn that missed it
    /// leaves at once, and the next try comes 10 ms later (at most 2 s in all).
    private static func reuseTid(_ tid: Int32, body: @escaping @Sendable () -> Void = { while true { pause() } }) throws {
        let tick = Duration.seconds(1) / Int(sysconf(Int32(_SC_CLK_TCK)))
        let gone = ContinuousClock.now
        while ContinuousClock.now - gone < tick * 2 { usleep(1000) }  // the clock, not a hope: ticks are fixed
        for _ in 0..<200 {
            try "\(tid - 1)".write(toFile: "/proc/sys/kernel/ns_last_pid", atomically: false, encoding: .utf8)
            let newborn = TidAttempt()
            Thread { if newborn.started(wanting: tid) { body() } }.start()
            if try newborn.gotIt() { return }
            usleep(10_000)
        }
        throw ScenarioFailure(description: "no newborn took tid \(tid) in 2 s")
    }

    /// Run in a private PID namespace (`unshare --pid --fork --mount-proc`): a thread dies inside
    /// the handler after its broadcast returned (see lateDeath), and a newborn takes its tid before
    /// the next broadcast. That broadcast's drain must tell the newborn from the dead thread by
    /// its starttime, not wait for it (before: BUSY at every broadcast while the newborn lived).
    static func lateDeathReused(_ args: ScenarioArguments) throws -> String {
        let mode = try args.mode()
        try requireOwnPIDNamespace()
        try ThreadCrowd.start(count: 8)
        let victim = try lateDeath(slack: 778_000, mode: mode, reuse: true)
        let checked = try verifyEveryThread("at slack 778001") { $0.timerSlack == .nanoseconds(778_001) }
        return
            "\(mode): tid \(victim) died late inside the handler and a newborn took it; the next broadcast buried it and reached every thread; \(checked) verified"
    }

    /// A caller whose own step kills it, inside its broadcast (strict: the others are held;
    /// relaxed: before any signal): the lock it held is taken over, the held threads leave
    /// without running its call, and the next broadcast reaches every thread. (Before: BUSY forever.)
    static func callerDied(_ args: ScenarioArguments) throws -> String {
        let mode = try args.mode()
        try ThreadCrowd.start(count: 8)
        try broadcastTimerSlack(666_000, options: BroadcastOptions(mode: mode))
        let born = ContinuousClock.now
        let doomed = cw_start_doomed_caller(666_666, 5_000_000_000, mode == .relaxed ? 1 : 0)
        try require(doomed > 0, "could not start the doomed caller: \(doomed)")
        try require(cw_wait_thread_gone(doomed, 10_000) == 0, "the doomed caller \(doomed) did not die")
        // Strict: every thread, this one too, was held by the dead caller; they leave once they
        // see it gone, not at its deadline (5 s) + the hold grace (2 s).
        let freed = ContinuousClock.now - born
        try require(freed < .seconds(3), "the threads held by the dead caller were let go only after \(freed)")
        let start = ContinuousClock.now
        let report = try broadcastTimerSlack(666_667, options: BroadcastOptions(timeout: .seconds(1), mode: mode))
        let elapsed = ContinuousClock.now - start
        let checked = try verifyEveryThread("at slack 666667 (none ran the dead caller's 666666)") { $0.timerSlack == .nanoseconds(666_667) }
        let again = try broadcastTimerSlack(666_668, options: BroadcastOptions(timeout: .seconds(1), mode: mode))
        try verifyEveryThread("at slack 666668") { $0.timerSlack == .nanoseconds(666_668) }
        return
            "\(mode): caller \(doomed) died inside its broadcast; its held threads were free after \(freed); the next took the lock over in \(elapsed) and reached \(report.threads) threads (\(checked) verified), the one after \(again.threads)"
    }

    /// Run in a private PID namespace (`unshare --pid --fork --mount-proc`): a caller dies inside
    /// its broadcast, and a newborn takes its tid before the next broadcast. The lock word still
    /// names that tid, which tgkill finds alive: the next broadcast must tell the newborn from the
    /// dead owner by its starttime and take the lock over; then the newborn itself broadcasts
    /// (the word named its own tid: not a nested call). (Before: BUSY while the newborn lived.)
    /// Owners are told apart by their pidfs inode numbers; a third round refuses `pidfd_open`
    /// (ENOSYS, as on a kernel before 6.9) on every thread, so that they are told apart by their
    /// starttime instead.
    static func callerDiedReused(_ args: ScenarioArguments) throws -> String {
        let mode = try args.mode()
        try requireOwnPIDNamespace()
        try ThreadCrowd.start(count: 8)
        try broadcastTimerSlack(668_000, options: BroadcastOptions(mode: mode))
        let doomed = cw_start_doomed_caller(668_666, 5_000_000_000, mode == .relaxed ? 1 : 0)
        try require(doomed > 0, "could not start the doomed caller: \(doomed)")
        try require(cw_wait_thread_gone(doomed, 10_000) == 0, "the doomed caller \(doomed) did not die")
        try reuseTid(doomed)
        let start = ContinuousClock.now
        let report = try broadcastTimerSlack(668_667, options: BroadcastOptions(timeout: .seconds(1), mode: mode))
        let elapsed = ContinuousClock.now - start
        let checked = try verifyEveryThread("at slack 668667 (none ran the dead caller's 668666)") { $0.timerSlack == .nanoseconds(668_667) }
        // Again, and this time the newborn with the dead caller's tid broadcasts itself.
        let second = cw_start_doomed_caller(668_766, 5_000_000_000, mode == .relaxed ? 1 : 0)
        try require(second > 0, "could not start the doomed caller: \(second)")
        try require(cw_wait_thread_gone(second, 10_000) == 0, "the doomed caller \(second) did not die")
        let own = NewbornBroadcast()
        try reuseTid(second) { own.run(slack: 668_767, mode: mode) }
        try own.wait().get()
        try verifyEveryThread("at slack 668767") { $0.timerSlack == .nanoseconds(668_767) }
        // Again without pidfds: the doomed caller publishes its starttime.
        try SeccompFilter(parsing: "default allow\npidfd_open errno ENOSYS\n").loadOnAllThreads()
        let third = cw_start_doomed_caller(668_866, 5_000_000_000, mode == .relaxed ? 1 : 0)
        try require(third > 0, "could not start the doomed caller: \(third)")
        try require(cw_wait_thread_gone(third, 10_000) == 0, "the doomed caller \(third) did not die")
        try reuseTid(third)
        let fallback = try broadcastTimerSlack(668_867, options: BroadcastOptions(timeout: .seconds(1), mode: mode))
        try verifyEveryThread("at slack 668867 (none ran the dead caller's 668866)") { $0.timerSlack == .nanoseconds(668_867) }
        return "\(mode): caller \(doomed) died inside its broadcast and a newborn took its tid; the next took the lock over in \(elapsed) "
            + "and reached \(report.threads) threads (\(checked) verified); a newborn at dead caller \(second)'s tid broadcast itself; "
            + "without pidfd_open, dead caller \(third)'s lock was taken over by starttime (\(fallback.threads) threads)"
    }

    /// A step that blocks every thread but the caller while four threads loop malloc/free in one
    /// arena: every broadcast returns within its deadline plus the bound and names the threads
    /// still inside. (Before: the report's calloc waited for an interrupted thread's arena lock.)
    static func mallocInside(_ args: ScenarioArguments) throws -> String {
        let mode = try args.mode()
        let rounds = try args.int("rounds", default: 10)
        try ThreadCrowd.start(count: 4)
        let timeout: Int64 = 100_000_000
        var tally = cw_blocked_tally()
        let r = cw_blocked_step_rounds(4, Int32(rounds), timeout, mode == .relaxed ? 1 : 0, &tally)
        try require(r == 0, "the rounds could not run: \(r)")
        try require(tally.deadline_passed == tally.rounds, "\(tally.rounds - tally.deadline_passed) rounds met a deadline they cannot meet")
        try require(tally.named_none == 0, "\(tally.named_none) reports named no thread still inside")
        // The bound: deadline + 100 ms covers the report's /proc budget and scheduling on 2 CPUs.
        try require(tally.slowest_ns < timeout + 100_000_000, "the slowest broadcast took \(Double(tally.slowest_ns) / 1e6) ms for a 100 ms deadline")
        let slack = 880_000
        try broadcastTimerSlack(slack, options: BroadcastOptions(timeout: .seconds(5), mode: mode))
        let checked = try verifyEveryThread("at slack \(slack)") { $0.timerSlack == .nanoseconds(slack) }
        return
            "\(mode): \(tally.rounds) blocked rounds with malloc loopers, slowest \(Double(tally.slowest_ns) / 1e6) ms (deadline 100 ms), \(tally.named) threads named inside; then \(checked) threads verified"
    }

    /// A fork child that closed its inherited copy of the engine's descriptor and opened a file
    /// of its own at that number keeps its file through its first broadcast. (Before: closed.)
    static func forkDescriptorReuse(_ args: ScenarioArguments) throws -> String {
        let mode = try args.mode()
        try ThreadCrowd.start(count: 4, kinds: [.pthreadPause])
        try broadcastTimerSlack(990_000, options: BroadcastOptions(mode: mode))
        let status = cw_fork_child_reuses_engine_fd(mode == .relaxed ? 1 : 0)
        try require(status != Int32(CW_CHILD_FD_CLOSED), "the child's broadcast closed the child's own file")
        try require(status == Int32(CW_CHILD_OK), "the child ended with status \(status)")
        try broadcastTimerSlack(990_001, options: BroadcastOptions(mode: mode))
        let checked = try verifyEveryThread("at slack 990001") { $0.timerSlack == .nanoseconds(990_001) }
        return "\(mode): the child's own file at the engine's old number survived its broadcast; parent \(checked) threads verified"
    }

    /// A deadline of Int64.max nanoseconds (what an overflowing Duration saturates to) is no
    /// deadline, not one in the past. (Before: UNREACHABLE at once, naming nobody.)
    static func endlessDeadline(_ args: ScenarioArguments) throws -> String {
        let mode = try args.mode()
        try ThreadCrowd.start(count: 8)
        let report = try broadcastTimerSlack(991_000, options: BroadcastOptions(timeout: .seconds(Int64.max), mode: mode))
        let checked = try verifyEveryThread("at slack 991000") { $0.timerSlack == .nanoseconds(991_000) }
        return "\(mode): an endless deadline reached \(report.threads) threads, \(checked) verified"
    }

    /// `--threads` threads (8,000) block the signal: with a 50 ms deadline every broadcast
    /// returns within the deadline plus the engine's documented bound (CB_OVERRUN_BOUND_NS,
    /// 50 ms; the first may also finish one listing of /proc/self/task), names every blocked thread, and (strict) changes none; once they unblock, the
    /// next broadcast reaches every thread. Prints the overrun of each broadcast.
    static func deadlineBound(_ args: ScenarioArguments) throws -> String {
        let mode = try args.mode()
        let count = try args.int("threads", default: 8000)
        try broadcastTimerSlack(992_000, options: BroadcastOptions(mode: mode))
        for _ in 0..<count {
            let tid = cw_start_signal_blocker(Int32(CB_DEFAULT_SIGNAL))
            try require(tid > 0, "could not start a signal blocker: \(tid)")
        }
        let timeout: Int64 = 50_000_000, bound: Int64 = 50_000_000
        var overruns: [Double] = []
        for round in 1...2 {  // the first learns the blockers from /proc, the second remembers them
            let r = rawTimerSlack(992_000 + round, timeout: timeout, relaxed: mode == .relaxed)
            try require(r.status == CB_UNREACHABLE, "round \(round): status \(r.status), expected UNREACHABLE")
            let named = r.problems.filter { $0.kind == CB_PROBLEM_UNREACHABLE.rawValue }.count
            try require(named >= count, "round \(round): \(named) threads named unreachable, \(count) block the signal")
            let overrun = r.elapsed - .nanoseconds(timeout)
            overruns.append(Double(overrun.components.attoseconds) / 1e15 + Double(overrun.components.seconds) * 1e3)
            // The first broadcast may finish a listing of /proc/self/task begun before the
            // deadline (~1 us per task, more on a loaded machine): the documented exception.
            let limit = round == 1 ? timeout + bound + Int64(count) * 10_000 : timeout + bound
            try require(r.elapsed < .nanoseconds(limit), "round \(round) took \(r.elapsed) for a 50 ms deadline")
        }
        if mode == .strict { try TortureScenarios.requireUnchanged(992_000) }
        cw_release_signal_blockers()
        try broadcastTimerSlack(992_010, options: BroadcastOptions(timeout: .seconds(60), mode: mode))
        let checked = try verifyEveryThread("at slack 992010") { $0.timerSlack == .nanoseconds(992_010) }
        let figures = overruns.map { String(format: "%.1f ms", $0) }.joined(separator: ", ")
        return "\(mode): \(count) blocked threads, 50 ms deadline, overrun \(figures) (bound 50 ms); all named; after unblocking \(checked) threads verified "
            + TortureScenarios.tally(runs: 3, threads: checked)
    }

    /// The torture-births workload (a thread born every ~300 µs, each living ~200 µs): with a
    /// 500 ms deadline at least 99%
    /// of `--calls` broadcasts succeed (each checked through /proc), and every one that fails
    /// names threads. Prints the success rate and the slowest call.
    static func birthsConvergence(_ args: ScenarioArguments) throws -> String {
        let mode = try args.mode()
        let calls = try args.int("calls", default: 200)
        let stop = Flag()
        defer { stop.set() }
        try ReliabilityScenarios.startBirths(until: stop)
        defer { cw_births_stop() }
        var succeeded = 0, silent = 0, misses = 0
        var slowest = Duration.zero
        for call in 1...calls {
            let slack = 993_000 + call
            let start = ContinuousClock.now
            do {
                try broadcastTimerSlack(slack, options: BroadcastOptions(timeout: .milliseconds(500), mode: mode))
                slowest = max(slowest, ContinuousClock.now - start)
                succeeded += 1
                let threads = try ProcessSnapshot.current().threads.filter { !$0.runsNoCode }
                misses += threads.filter { $0.timerSlack.map { $0 != .nanoseconds(slack) } ?? false }.count
            } catch let error as AllThreadsError {
                slowest = max(slowest, ContinuousClock.now - start)
                if case .unreachable(let named) = error.kind, named.isEmpty { silent += 1 }
                if case .unreachableAfterChange(let named) = error.kind, named.isEmpty { silent += 1 }
            }
        }
        let births = cw_births_count()
        try require(silent == 0, "\(silent) failed broadcasts named no thread")
        try require(succeeded * 100 >= calls * 99, "only \(succeeded) of \(calls) broadcasts succeeded with a 500 ms deadline")
        try require(slowest < .milliseconds(500 + 50), "the slowest call took \(slowest) for a 500 ms deadline")
        // A newborn may be listed before it has its parent's slack; /proc misses are only those
        // of threads that were already alive: counted, and required to be none.
        try require(misses == 0, "\(misses) threads in /proc without the new slack after a success")
        return "\(mode): \(succeeded) of \(calls) broadcasts succeeded under \(births.born) births (500 ms deadline) "
            + TortureScenarios.tally(runs: calls, threads: 16, misses: misses, slowest: slowest)
    }

    /// Run in a private PID namespace (`unshare --pid --fork --mount-proc`): a thread runs the
    /// call and leaves, and a thread that has not run it yet starts a newborn which takes the
    /// departed tid (ns_last_pid) during the same broadcast. Relaxed: the newborn must not be
    /// taken for the departed thread; the broadcast reaches it, and /proc shows the new value on
    /// every thread. Strict: the departed thread is held, so nobody leaves; the broadcast must
    /// reach every thread. (Before, relaxed: OK while the newborn kept the old value.)
    static func tidReuse(_ args: ScenarioArguments) throws -> String {
        let mode = try args.mode()
        try requireOwnPIDNamespace()
        let rounds = try args.int("rounds", default: 10)
        try ThreadCrowd.start(count: 4, kinds: [.pthreadPause, .pthreadFutex])
        try broadcastTimerSlack(994_000, options: BroadcastOptions(mode: mode))
        var reused = 0, checked = 0, pairs: [String] = []
        for round in 1...rounds {
            let slack = 994_000 + round
            var out = cw_reuse_outcome()
            try require(cw_tid_reuse_broadcast(slack, mode == .relaxed ? 1 : 0, &out) == 0, "could not start the helpers")
            if out.reused != 0 { reused += 1 }
            pairs.append("\(out.exiter)->\(out.newborn)")
            try require(
                out.status == CB_OK.rawValue,
                "round \(round): status \(out.status), expected OK (first problem: tid \(out.problem_tid), reason \(out.problem_reason); exiter \(out.exiter), newborn \(out.newborn))"
            )
            checked = try verifyEveryThread("at slack \(slack) (newborn \(out.newborn) included)") { $0.timerSlack == .nanoseconds(slack) }
        }
        // Relaxed: the race is forced, but another allocation can slip in between; most rounds must reuse.
        if mode == .relaxed {
            try require(
                reused * 2 >= rounds,
                "only \(reused) of \(rounds) newborns took the departed tid (departed->newborn: \(pairs.joined(separator: " "))): too little was tested")
        }
        return "\(mode): \(rounds) rounds, \(reused) newborns took a departed thread's tid during the broadcast; every thread verified each round "
            + TortureScenarios.tally(runs: rounds + 1, threads: checked)
    }

    /// Every thread enforces a Landlock domain that forbids reading any file, /proc included
    /// (the engine keeps what it opened before). The io_uring worker seen before the domain must
    /// still be skipped, not signalled and waited for; each thread's timer slack is then checked
    /// through its /proc file, opened before the domain. A thread that blocks the signal, born
    /// under the domain, is named with the reason that /proc was denied. (Before: the worker
    /// made every broadcast under the domain unreachable.)
    static func landlockWithoutProc(_ args: ScenarioArguments) throws -> String {
        let mode = try args.mode()
        do { _ = try Landlock.abiVersion() } catch { return "SKIPPED: this kernel has no Landlock (\(error))" }
        try ThreadCrowd.start(count: 12)
        let ring = cw_start_io_uring_worker()
        try require(ring >= 0, "could not start an io_uring worker: \(Errno(rawValue: -ring))")
        var workers: [Int32] = []
        for _ in 0..<1000 where workers.isEmpty {
            workers = try ProcessSnapshot.current().threads.filter(\.isIOWorker).map(\.tid)
            if workers.isEmpty { usleep(1000) }
        }
        try require(!workers.isEmpty, "no io_uring worker appeared")
        let first = try broadcastTimerSlack(998_000, options: BroadcastOptions(mode: mode))
        try require(first.skipped.contains { workers.contains($0.tid) && $0.reason == .ioWorker }, "the worker was not skipped: \(first.skipped)")
        let files = try openSlackFiles()
        try denyReadingFiles(mode: mode)
        let report = try broadcastTimerSlack(998_001, options: BroadcastOptions(mode: mode))
        try require(
            report.skipped.contains { workers.contains($0.tid) && $0.reason == .ioWorker }, "the worker was not skipped under the domain: \(report.skipped)")
        try checkSlackFiles(files, 998_001)
        let blocker = try blockerNamed(slack: 998_002, mode: mode)
        try require(blocker.reason == .procDenied, "expected tid \(blocker.tid) with /proc denied, got \(blocker)")
        return "\(mode): under a domain that denies reading /proc, io_uring worker \(workers) skipped, \(files.count) threads at slack 998001 "
            + "per their /proc files opened before; the blocker born under it named (/proc denied) "
            + TortureScenarios.tally(runs: 3, threads: files.count)
    }

    /// Run in a private PID namespace (`unshare --pid --fork --mount-proc`): an io_uring SQPOLL
    /// thread, known to the engine and skipped, exits during a broadcast, and a thread that has
    /// not run the call yet starts a newborn that takes its tid (ns_last_pid). The thread count
    /// then still matches: the newborn must not be taken for the skipped thread; the broadcast
    /// must reach it, and /proc must show the new value on every thread. (Before, strict: OK
    /// while the newborn kept the old value, 8 of 10.)
    static func sqpollReuse(_ args: ScenarioArguments) throws -> String {
        let mode = try args.mode()
        try requireOwnPIDNamespace()
        let rounds = try args.int("rounds", default: 10)
        try ThreadCrowd.start(count: 4, kinds: [.pthreadPause, .pthreadFutex])
        var reused = 0, checked = 0, pairs: [String] = []
        for round in 1...rounds {
            let ring = cw_ring_create(Int32(CW_RING_SQPOLL))
            try require(ring >= 0, "could not create an SQPOLL ring: \(Errno(rawValue: -ring))")
            var sqpoll: Int32 = 0
            for _ in 0..<1000 where sqpoll == 0 {
                sqpoll = try ProcessSnapshot.current().threads.first { $0.name.hasPrefix("iou-sqp") }?.tid ?? 0
                if sqpoll == 0 { usleep(1000) }
            }
            try require(sqpoll > 0, "round \(round): no SQPOLL thread appeared")
            let known = try broadcastTimerSlack(995_000 + 2 * round, options: BroadcastOptions(mode: mode))
            try require(known.skipped.contains { $0.tid == sqpoll }, "round \(round): SQPOLL thread \(sqpoll) not skipped: \(known.skipped)")
            let slack = 995_001 + 2 * round
            var out = cw_reuse_outcome()
            try require(cw_sqpoll_reuse_broadcast(slack, mode == .relaxed ? 1 : 0, ring, sqpoll, &out) == 0, "could not start the helpers")
            if out.reused != 0 { reused += 1 }
            pairs.append("\(out.exiter)->\(out.newborn)")
            try require(
                out.status == CB_OK.rawValue,
                "round \(round): status \(out.status), expected OK (first problem: tid \(out.problem_tid), reason \(out.problem_reason); sqpoll \(out.exiter), newborn \(out.newborn))"
            )
            checked = try verifyEveryThread("at slack \(slack) (newborn \(out.newborn) included)") { $0.timerSlack == .nanoseconds(slack) }
        }
        try require(
            reused * 2 >= rounds,
            "only \(reused) of \(rounds) newborns took the SQPOLL thread's tid (sqpoll->newborn: \(pairs.joined(separator: " "))): too little was tested")
        return "\(mode): \(rounds) rounds, \(reused) newborns took a skipped SQPOLL thread's tid during the broadcast; every thread verified each round "
            + TortureScenarios.tally(runs: 2 * rounds, threads: checked)
    }

    /// The main thread calls pthread_exit under a Landlock domain that forbids reading any file
    /// (/proc included), after the engine had seen it alive: the zombie main thread must still be
    /// recognised (through the stat file the engine keeps open) and skipped, and every other
    /// thread reached (checked through /proc files opened before the domain). (Before: the
    /// zombie could not be read, and every broadcast under the domain was unreachable.)
    static func landlockZombieMain(_ args: ScenarioArguments) throws -> String {
        let mode = try args.mode()
        do { _ = try Landlock.abiVersion() } catch { return "SKIPPED: this kernel has no Landlock (\(error))" }
        try ThreadCrowd.start(count: 8, kinds: [.pthreadPause, .swiftThread, .dispatchQueue])
        try broadcastTimerSlack(999_000, options: BroadcastOptions(mode: mode))
        let pid = getpid()
        let mainStat = try FileDescriptor.open("/proc/self/task/\(pid)/stat", .readOnly)
        let files = try openSlackFiles(excluding: pid)
        try denyReadingFiles(mode: mode)
        EngineScenarios.afterMainThreadExits("landlock-zombie-main") {
            for _ in 0..<1000 where try statState(mainStat) != "Z" { usleep(1000) }
            try require(try statState(mainStat) == "Z", "the main thread did not become a zombie")
            let report = try broadcastTimerSlack(999_001, options: BroadcastOptions(mode: mode))
            try require(
                report.skipped.map(\.tid) == [pid] && report.skipped[0].reason == .zombieMainThread,
                "the zombie main thread was not reported as skipped: \(report.skipped)")
            try checkSlackFiles(files, 999_001)
            return "\(mode): under a domain that denies reading /proc, main thread \(pid) skipped as a zombie, "
                + "\(files.count) threads at slack 999001 per their /proc files " + TortureScenarios.tally(runs: 1, threads: files.count)
        }
    }

    /// The timer slack file of every thread that runs code (but `excluded`), opened now: readable
    /// later under a Landlock domain that forbids opening it.
    static func openSlackFiles(excluding excluded: Int32 = 0) throws -> [(tid: Int32, file: FileDescriptor)] {
        try ProcessSnapshot.current().threads.filter { !$0.runsNoCode && $0.tid != excluded }.map { t in
            (t.tid, try FileDescriptor.open("/proc/\(t.tid)/timerslack_ns", .readOnly))
        }
    }

    /// Every thread whose file is still there shows timer slack `slack`.
    static func checkSlackFiles(_ files: [(tid: Int32, file: FileDescriptor)], _ slack: Int) throws {
        var wrong: [String] = []
        for (tid, file) in files {
            var buffer = [UInt8](repeating: 0, count: 32)
            let n = try buffer.withUnsafeMutableBytes { try file.read(fromAbsoluteOffset: 0, into: $0) }
            let text = String(decoding: buffer.prefix(n), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if text != "\(slack)" && FileManager.default.fileExists(atPath: "/proc/self/task/\(tid)") { wrong.append("tid \(tid): \(text)") }
        }
        try require(wrong.isEmpty, "threads not at slack \(slack) per /proc: \(wrong.joined(separator: "; "))")
    }

    /// Puts every thread in a Landlock domain that forbids reading any file or directory.
    static func denyReadingFiles(mode: BroadcastMode) throws {
        var handled = UInt64(LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
        let fd = withUnsafePointer(to: &handled) { cb_syscall(Int(SYS_landlock_create_ruleset), Int(bitPattern: $0), 8, 0, 0, 0, 0) }
        try require(fd >= 0, "landlock_create_ruleset failed: \(Errno(rawValue: CInt(-fd)))")
        try Broadcast.run(.landlockRestrictSelf(ruleset: FileDescriptor(rawValue: CInt(fd))), options: BroadcastOptions(mode: mode))
        try require(open("/proc/self/status", O_RDONLY) == -1 && errno == EACCES, "/proc can still be read under the domain")
    }

    /// The state letter of the task whose stat file is open at `file` (after the last ')').
    static func statState(_ file: FileDescriptor) throws -> Character? {
        var buffer = [UInt8](repeating: 0, count: 512)
        let n = try buffer.withUnsafeMutableBytes { try file.read(fromAbsoluteOffset: 0, into: $0) }
        let text = String(decoding: buffer.prefix(n), as: UTF8.self)
        guard let close = text.lastIndex(of: ")") else { return nil }
        return text[text.index(after: close)...].first { $0 != " " }
    }

    /// Starts a thread that blocks the signal and broadcasts `slack` (300 ms deadline), which must
    /// fail naming only that thread (strict: unreachable; relaxed: after the change); returns the entry.
    static func blockerNamed(slack: Int, mode: BroadcastMode) throws -> ThreadIssue {
        let blocker = try SpecialThreads.signalBlocker(kernelSignal: KernelSignal.setxid.rawValue)
        do {
            try broadcastTimerSlack(slack, options: BroadcastOptions(timeout: .milliseconds(300), mode: mode))
        } catch let error as AllThreadsError {
            switch (error.kind, mode) {
            case (.unreachable(let threads), .strict), (.unreachableAfterChange(let threads), .relaxed):
                try require(threads.map(\.tid) == [blocker], "expected only tid \(blocker) unreachable, got \(threads)")
                return threads[0]
            default: throw ScenarioFailure(description: "expected the blocker to be unreachable, got \(error)")
            }
        }
        throw ScenarioFailure(description: "the broadcast succeeded although tid \(blocker) blocks the signal")
    }

    /// The ids of this process in every PID namespace from /proc's down to its own (the NSpid
    /// line of /proc/self/status): one id when /proc belongs to its own namespace.
    static func namespacePids() throws -> [Int32] {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("NSpid:") }) else {
            throw ScenarioFailure(description: "no NSpid line in /proc/self/status")
        }
        return line.dropFirst(6).split(whereSeparator: { $0 == "\t" || $0 == " " }).compactMap { Int32($0) }
    }

    /// Run in a PID namespace without a /proc of its own (`unshare --pid --fork`, no
    /// --mount-proc): /proc lists every thread under its id in the outer namespace, which
    /// tgkill does not know. Threads of several kinds; three broadcasts must reach every one,
    /// each checked through /proc by its outer name; then a thread that blocks the signal is
    /// named by its own tid, with the reason read from /proc (its SigBlk, by its outer name).
    /// (Before, with 2 or more threads: every broadcast ended "did not settle".)
    static func pidNamespaceWithOuterProc(_ args: ScenarioArguments) throws -> String {
        let mode = try args.mode()
        let ids = try namespacePids()
        try require(ids.count >= 2 && ids.last == getpid(), "run in a PID namespace without a /proc of its own (unshare --pid --fork): NSpid \(ids)")
        try ThreadCrowd.start(count: try args.int("threads", default: 24))
        let live = ThreadCrowd.liveThreadCount()
        var checked = 0
        for round in 1...3 {
            let slack = 996_000 + round
            let report = try broadcastTimerSlack(slack, options: BroadcastOptions(mode: mode))
            checked = try verifyEveryThread("at slack \(slack)") { $0.timerSlack == .nanoseconds(slack) }
            try require(report.threads >= live, "round \(round): the report counts \(report.threads) threads, fewer than the \(live) live ones")
        }
        try require(checked >= live, "/proc showed \(checked) threads, fewer than the \(live) live ones")
        let blocker = try blockerNamed(slack: 996_100, mode: mode)
        try require(
            blocker.reason == .signalBlocked && blocker.name == "wl-sigblock", "expected tid \(blocker.tid) (wl-sigblock) blocking the signal, got \(blocker)")
        if mode == .strict { try verifyEveryThread("still at slack 996003") { $0.timerSlack == .nanoseconds(996_003) } }
        return "\(mode): /proc of the namespace \(ids.count - 1) level(s) up; 3 broadcasts reached \(live) threads, each verified by its outer name; "
            + "the blocker named by its own tid \(blocker.tid) " + TortureScenarios.tally(runs: 4, threads: checked)
    }

    /// A thread that sees /proc of a PID namespace this process is not in (it enters, alone, the
    /// mount namespace `--mount-namespace`, of a child `unshare --pid --fork --mount-proc`) makes
    /// the process's first broadcast: refused before anything changes, with its own error, in both
    /// modes; every thread is then checked through the process's own /proc.
    static func pidNamespaceWithForeignProc(_ args: ScenarioArguments) throws -> String {
        let mode = try args.mode()
        guard let path = args.values["mount-namespace"] else { throw ScenarioFailure(description: "--mount-namespace /proc/PID/ns/mnt is required") }
        try ThreadCrowd.start(count: try args.int("threads", default: 12))
        let attempt = ForeignProcAttempt()
        Thread { attempt.run(mountNamespace: path, mode: mode) }.start()
        let refusal = try attempt.wait()
        let checked = try verifyEveryThread("unchanged (slack not 997000)") { $0.timerSlack != .nanoseconds(997_000) }
        return "\(mode): refused (\(refusal)); \(checked) threads unchanged per /proc"
    }

    /// Refuses to run outside a private PID namespace (`unshare --pid --fork --mount-proc`): the
    /// tid-reuse scenarios write `ns_last_pid` to hand a chosen tid to a newborn.
    private static func requireOwnPIDNamespace() throws {
        try require(
            FileManager.default.isWritableFile(atPath: "/proc/sys/kernel/ns_last_pid") && getpid() < 100,
            "run in a private PID namespace: unshare --pid --fork --mount-proc")
    }
}

/// The thread of pidns-foreign-proc that enters another mount namespace and broadcasts.
private final class ForeignProcAttempt: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<String, any Error> = .failure(ScenarioFailure(description: "the broadcasting thread did not run"))

    /// On the new thread: its own filesystem context (unshare CLONE_FS, this thread only), the
    /// mount namespace at `path`, and the process's first broadcast, which must be refused.
    func run(mountNamespace path: String, mode: BroadcastMode) {
        result = Result {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            try require(fd >= 0, "open \(path): \(Errno(rawValue: errno))")
            defer { close(fd) }
            let unshared = cb_syscall(Int(SYS_unshare), Int(CLONE_FS), 0, 0, 0, 0, 0)
            try require(unshared == 0, "unshare(CLONE_FS): \(Errno(rawValue: Int32(-unshared)))")
            let entered = cb_syscall(Int(SYS_setns), Int(fd), Int(CLONE_NEWNS), 0, 0, 0, 0)
            try require(entered == 0, "setns: \(Errno(rawValue: Int32(-entered)))")
            try require(!FileManager.default.fileExists(atPath: "/proc/self"), "/proc/self exists in \(path)")
            do {
                try broadcastTimerSlack(997_000, options: BroadcastOptions(mode: mode))
            } catch AllThreadsError.Code.procOfAnotherPIDNamespace {
                return "\(AllThreadsError.procOfAnotherPIDNamespace)"
            }
            throw ScenarioFailure(description: "the broadcast succeeded with a /proc that cannot list its threads")
        }
        done.signal()
    }

    /// What the thread found (at most 30 s).
    func wait() throws -> String {
        guard done.wait(timeout: .now() + 30) == .success else { throw ScenarioFailure(description: "the broadcasting thread did not finish in 30 s") }
        return try result.get()
    }
}

/// A thread of caller-died-reused that broadcasts as soon as it starts, from the tid of a
/// caller that died holding the lock.
private final class NewbornBroadcast: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<Void, any Error> = .failure(ScenarioFailure(description: "the newborn did not run"))

    /// On the newborn: broadcasts, then parks.
    func run(slack: Int, mode: BroadcastMode) {
        result = Result { try broadcastTimerSlack(slack, options: BroadcastOptions(timeout: .seconds(1), mode: mode)) }.map { _ in }
        done.signal()
        while true { pause() }
    }

    /// The outcome of the newborn's broadcast (at most 10 s).
    func wait() throws -> Result<Void, any Error> {
        guard done.wait(timeout: .now() + 10) == .success else { throw ScenarioFailure(description: "the newborn did not broadcast in 10 s") }
        return result
    }
}

/// One try of reuseTid: whether the new thread got the wanted tid.
private final class TidAttempt: @unchecked Sendable {
    private let answered = DispatchSemaphore(value: 0)
    private var hit = false

    /// On the new thread: true when it has tid `wanted` (it then goes on); false: it leaves.
    func started(wanting wanted: Int32) -> Bool {
        hit = cb_syscall(Int(SYS_gettid), 0, 0, 0, 0, 0, 0) == Int(wanted)
        answered.signal()
        return hit
    }

    /// Whether the thread got the tid (waits at most 5 s for it to start).
    func gotIt() throws -> Bool {
        guard answered.wait(timeout: .now() + 5) == .success else { throw ScenarioFailure(description: "a newborn did not start in 5 s") }
        return hit
    }
}
