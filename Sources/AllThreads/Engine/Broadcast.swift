import CBroadcast
import SystemPackage

/// Runs system calls on every thread of the calling process.
///
/// On Linux, credentials, capabilities, no_new_privs and more belong to each thread.
/// A broadcast stops every thread in a signal handler, proves that no thread is
/// missing, runs the call on the calling thread, and, if it succeeded, on every
/// other thread before any of them returns to application code. Nothing blocks
/// forever: a thread that cannot be reached makes the broadcast fail before any
/// thread has changed.
public enum Broadcast {
    /// Runs the raw system call `call` with up to six arguments on every thread.
    ///
    /// ```swift
    /// // Drop to nobody on every thread, groups first.
    /// try Broadcast.syscall(.setresgid, 65534, 65534, 65534)
    /// try Broadcast.syscall(.setresuid, 65534, 65534, 65534)
    /// ```
    ///
    /// - Parameters:
    ///   - call: the system call.
    ///   - arguments: at most six arguments, as the kernel takes them.
    ///   - options: deadline, signal and mismatch policy.
    /// - Returns: what happened, when every thread ran the call with the caller's result.
    /// - Throws: ``AllThreadsError``; `.callFailed` and `.unreachable` mean no thread changed.
    @discardableResult
    public static func syscall(
        _ call: SystemCall, _ arguments: Int..., options: BroadcastOptions = BroadcastOptions()
    ) throws(AllThreadsError) -> BroadcastReport {
        try syscall(call, arguments: arguments, options: options)
    }

    /// Runs the raw system call `call` with the given arguments (at most six) on every thread.
    ///
    /// The array form of ``syscall(_:_:options:)``, for callers that build the argument list.
    ///
    /// - Parameters:
    ///   - call: the system call.
    ///   - arguments: at most six arguments, as the kernel takes them.
    ///   - options: deadline, signal, mismatch policy and mode of the broadcast.
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` before any thread changes for an argument
    ///   that cannot work; otherwise the errors of ``Broadcast/run(_:options:)``, each saying which
    ///   threads changed.
    @discardableResult
    public static func syscall(
        _ call: SystemCall, arguments: [Int], options: BroadcastOptions = BroadcastOptions()
    ) throws(AllThreadsError) -> BroadcastReport {
        try run(call, arguments: arguments, options: options, probe: false)
    }

    /// Runs `call` on every thread *whatever its result on the caller*, and returns
    /// the result every thread got.
    ///
    /// For proofs: a probe of `setuid(0)` after dropping root must fail with `EPERM`
    /// on every thread. Only use it with calls that change nothing when they fail
    /// the way you expect; a probe that succeeds changes every thread.
    ///
    /// - Parameters:
    ///   - call: the system call.
    ///   - arguments: at most six arguments, as the kernel takes them.
    ///   - options: deadline, signal, mismatch policy and mode of the broadcast.
    /// - Throws: ``AllThreadsError/Code/mismatch`` naming each thread whose
    ///   result differs from the caller's; the other errors as ``syscall(_:arguments:options:)``.
    public static func probe(
        _ call: SystemCall, _ arguments: Int..., options: BroadcastOptions = BroadcastOptions()
    ) throws(AllThreadsError) -> SyscallResult {
        try run(call, arguments: arguments, options: options, probe: true).result
    }

    /// Runs `program` on every thread as one broadcast: every thread runs its steps in order,
    /// as a whole, before it returns to application code.
    ///
    /// Strict mode (the default): every thread is stopped and proven present first, so an
    /// unreachable thread means no step ran anywhere. The caller runs the steps; if its step
    /// *k* fails, every thread runs exactly the steps before it (``AllThreadsError/Code/stepFailed``).
    /// A thread whose result at a step is not the expected one stops there
    /// (``AllThreadsError/Code/stepMismatch``).
    ///
    /// A program of one step reports as ``syscall(_:arguments:options:)`` does
    /// (``AllThreadsError/Code/callFailed``, ``AllThreadsError/Code/mismatch``).
    ///
    /// - Parameters:
    ///   - program: the steps every thread runs.
    ///   - options: deadline, signal, mismatch policy and mode of the broadcast.
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` before anything runs for an empty
    ///   program, more than ``BroadcastProgram/maxSteps`` steps, a negative call number or
    ///   more than six arguments.
    @discardableResult
    public static func run(_ program: BroadcastProgram, options: BroadcastOptions = BroadcastOptions()) throws(AllThreadsError) -> BroadcastReport {
        guard !program.steps.isEmpty else { throw .invalidArgument("a program needs at least one step") }
        guard program.steps.count <= BroadcastProgram.maxSteps else {
            throw .invalidArgument("a program takes at most \(BroadcastProgram.maxSteps) steps, not \(program.steps.count)")
        }
        let numbered = program.steps.count > 1
        for (i, step) in program.steps.enumerated() {
            try validate(step.call, argumentCount: step.arguments.count, step: numbered ? i : nil)
        }
        var cOptions = try engineOptions(options)
        var report = cb_report()
        let arena = ArgumentArena(program)
        defer { arena.deallocate() }
        let steps = program.steps.enumerated().map { arena.step($1, at: $0) }
        steps.withUnsafeBufferPointer { cb_broadcast_steps($0.baseAddress, UInt32($0.count), &cOptions, &report) }
        defer { cb_report_free(&report) }
        return try BroadcastReport(report, steps: program.steps.count) { program.steps[$0].call }
    }

    /// A single call, without building a program: no heap allocation once warm.
    private static func run(
        _ call: SystemCall, arguments: [Int], options: BroadcastOptions, probe: Bool
    ) throws(AllThreadsError) -> BroadcastReport {
        try validate(call, argumentCount: arguments.count, step: nil)
        var cOptions = try engineOptions(options)
        var step = cb_step()
        step.nr = call.rawValue
        step.expect = Int32((probe ? CB_EXPECT_PROBE : CB_EXPECT_CALLER).rawValue)
        withUnsafeMutableBytes(of: &step.args) { buffer in
            for (i, argument) in arguments.enumerated() { buffer.storeBytes(of: argument, toByteOffset: i * 8, as: Int.self) }
        }
        var report = cb_report()
        cb_broadcast_steps(&step, 1, &cOptions, &report)
        defer { cb_report_free(&report) }
        return try BroadcastReport(report, steps: 1) { _ in call }
    }

    private static func validate(_ call: SystemCall, argumentCount: Int, step: Int?) throws(AllThreadsError) {
        let which = step.map { "step \($0 + 1): " } ?? ""
        guard call.rawValue >= 0 else { throw .invalidArgument("\(which)system call number \(call.rawValue) is negative") }
        guard argumentCount <= 6 else {
            throw .invalidArgument("\(which)a system call takes at most 6 arguments, not \(argumentCount)")
        }
    }

    private static func engineOptions(_ options: BroadcastOptions) throws(AllThreadsError) -> cb_options {
        guard (33...64).contains(options.signal.rawValue) else {
            throw .invalidArgument("\(options.signal) is not a real-time signal the engine can use (33...64)")
        }
        guard options.timeout > .zero else { throw .invalidArgument("the timeout must be positive") }
        var cOptions = cb_options()
        cOptions.timeout_ns = options.timeout.nanoseconds
        cOptions.signal = options.signal.rawValue
        cOptions.abort_on_mismatch = options.onMismatch == .abort ? 1 : 0
        cOptions.relaxed = options.mode == .relaxed ? 1 : 0
        return cOptions
    }
}

/// The memory behind a program's byte arguments, allocated before any thread is stopped
/// and freed after every thread is released.
private struct ArgumentArena {
    let base: UnsafeMutableRawPointer
    let offsets: [[Int]]  // per step, per argument: the offset of its bytes

    init(_ program: BroadcastProgram) {
        var size = 0
        offsets = program.steps.map { step in
            step.arguments.map { argument in
                guard case .bytes(let bytes) = argument else { return 0 }
                defer { size += (bytes.count + 7) & ~7 }
                return size
            }
        }
        base = UnsafeMutableRawPointer.allocate(byteCount: max(size, 8), alignment: 8)
        for (s, step) in program.steps.enumerated() {
            for (a, argument) in step.arguments.enumerated() {
                if case .bytes(let bytes) = argument {
                    bytes.withUnsafeBytes { (base + offsets[s][a]).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
                }
            }
        }
    }

    func step(_ step: BroadcastStep, at index: Int) -> cb_step {
        var c = cb_step()
        c.nr = step.call.rawValue
        withUnsafeMutableBytes(of: &c.args) { args in
            for (a, argument) in step.arguments.enumerated() {
                let value: Int
                switch argument {
                case .value(let v): value = v
                case .bytes: value = Int(bitPattern: base + offsets[index][a])
                }
                args.storeBytes(of: value, toByteOffset: a * MemoryLayout<Int>.stride, as: Int.self)
            }
        }
        switch step.expectation {
        case .callersResult: c.expect = Int32(CB_EXPECT_CALLER.rawValue)
        case .probe: c.expect = Int32(CB_EXPECT_PROBE.rawValue)
        case .result(let result):
            c.expect = Int32(CB_EXPECT_VALUE.rawValue)
            c.value = result.rawValue
        }
        return c
    }

    func deallocate() { base.deallocate() }
}

extension Duration {
    /// The duration in whole nanoseconds, saturating.
    package var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (ns, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : ns &+ attoseconds / 1_000_000_000
    }
}

extension BroadcastReport {
    /// Converts the engine's report of a program of `steps` steps, throwing for every status
    /// but success; `call` names the system call of a step.
    init(_ report: cb_report, steps: Int, call: (Int) -> SystemCall) throws(AllThreadsError) {
        let problems = UnsafeBufferPointer(start: report.problems, count: Int(report.problem_count)).map(Problem.init)
        let caller = SyscallResult(rawValue: report.result)
        let single = steps == 1
        switch cb_status(rawValue: UInt32(bitPattern: report.status)) {
        case CB_OK:
            break
        case CB_CALL_FAILED where single && caller.errno != nil:
            throw .callFailed(caller.errno!)
        case CB_CALL_FAILED, CB_STEP_FAILED:
            let step = Int(report.failed_step)
            throw .stepFailed(
                StepFailure(step: step, call: call(step), result: caller, appliedSteps: Int(report.steps_applied)))
        case CB_UNREACHABLE:
            // Relaxed: a thread that took the signal but had not finished is named too.
            let unreachable = problems.compactMap { $0.kind == CB_PROBLEM_UNREACHABLE || $0.kind == CB_PROBLEM_NO_RESULT ? $0.issue : nil }
            throw report.changed != 0 ? .unreachableAfterChange(unreachable) : .unreachable(unreachable)
        case CB_MISMATCH where single:
            throw .mismatch(caller: caller, threads: problems.compactMap { $0.kind == CB_PROBLEM_MISMATCH ? $0.threadResult : nil })
        case CB_MISMATCH:
            throw .stepMismatch(
                problems.compactMap { p in
                    guard p.kind == CB_PROBLEM_MISMATCH else { return nil }
                    return StepMismatch(
                        thread: ThreadIdentity(tid: p.issue.tid, name: p.issue.name), step: p.step, call: call(p.step),
                        result: SyscallResult(rawValue: p.result), expected: SyscallResult(rawValue: p.expected))
                })
        case CB_INCOMPLETE:
            throw .incomplete(problems.compactMap { $0.kind == CB_PROBLEM_NO_RESULT || $0.kind == CB_PROBLEM_MISMATCH ? $0.threadResult : nil })
        case CB_BUSY:
            throw .busy
        case CB_SETUP_FAILED:
            throw .setupFailed(Errno(rawValue: report.setup_errno))
        case CB_PROC_ELSEWHERE:
            throw .procOfAnotherPIDNamespace
        default:
            throw .invalidArgument("the engine rejected the options")
        }
        self.init(
            result: caller,
            threads: Int(report.threads),
            rounds: Int(report.rounds),
            skipped: problems.compactMap { $0.kind == CB_PROBLEM_SKIPPED ? $0.issue : nil },
            elapsed: .nanoseconds(report.elapsed_ns)
        )
        if !single {  // a single call's result is `result`: no array, no allocation
            var results = report.results
            stepResults = withUnsafeBytes(of: &results) { raw in
                raw.bindMemory(to: Int.self).prefix(Int(report.steps_applied)).map(SyscallResult.init(rawValue:))
            }
        }
    }
}

/// One entry of the engine's problem list, decoded.
private struct Problem {
    var kind: cb_problem_kind
    var issue: ThreadIssue
    var threadResult: ThreadResult
    var step: Int
    var result: Int
    var expected: Int

    init(_ p: cb_problem) {
        var name = p.name
        let text = withUnsafeBytes(of: &name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        kind = cb_problem_kind(rawValue: UInt32(bitPattern: p.kind))
        let state = p.state == 0 ? nil : Character(Unicode.Scalar(UInt8(bitPattern: p.state)))
        issue = ThreadIssue(tid: p.tid, name: text, state: state, reason: Self.reason(p))
        step = Int(p.step)
        result = p.result
        expected = p.expected
        threadResult = ThreadResult(
            tid: p.tid, name: text, result: kind == CB_PROBLEM_NO_RESULT ? nil : SyscallResult(rawValue: p.result))
    }

    static func reason(_ p: cb_problem) -> ThreadIssue.Reason {
        switch cb_reason(rawValue: UInt32(bitPattern: p.reason)) {
        case CB_REASON_SIGNAL_BLOCKED: .signalBlocked
        case CB_REASON_STOPPED: .stopped
        case CB_REASON_UNINTERRUPTIBLE: .uninterruptible
        case CB_REASON_QUEUE_FULL: .signalQueueFull
        case CB_REASON_SEND_FAILED: .sendFailed(Errno(rawValue: CInt(-p.result)))
        case CB_REASON_ZOMBIE_MAIN: .zombieMainThread
        case CB_REASON_IO_WORKER: .ioWorker
        case CB_REASON_USER_WORKER: .userWorker
        case CB_REASON_PROC_DENIED: .procDenied
        case CB_REASON_EXITING: .exiting
        case CB_REASON_STILL_RUNNING: .stillRunning
        case CB_REASON_DIED: .diedInHandler
        case CB_REASON_NOT_SIGNALLED: .notSignalled
        default: .noResponse
        }
    }
}
