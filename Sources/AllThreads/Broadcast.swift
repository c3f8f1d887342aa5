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
    /// - Throws: ``AllThreadsError/mismatch(caller:threads:)`` naming each thread whose
    ///   result differs from the caller's; the other errors as ``syscall(_:arguments:options:)``.
    public static func probe(
        _ call: SystemCall, _ arguments: Int..., options: BroadcastOptions = BroadcastOptions()
    ) throws(AllThreadsError) -> SyscallResult {
        SyscallResult(rawValue: try run(call, arguments: arguments, options: options, probe: true).result)
    }

    private static func run(
        _ call: SystemCall, arguments: [Int], options: BroadcastOptions, probe: Bool
    ) throws(AllThreadsError) -> BroadcastReport {
        guard call.rawValue >= 0 else { throw .invalidArgument("system call number \(call.rawValue) is negative") }
        guard arguments.count <= 6 else {
            throw .invalidArgument("a system call takes at most 6 arguments, not \(arguments.count)")
        }
        guard (33...64).contains(options.signal.rawValue) else {
            throw .invalidArgument("\(options.signal) is not a real-time signal the engine can use (33...64)")
        }
        guard options.timeout > .zero else { throw .invalidArgument("the timeout must be positive") }

        var raw = (0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &raw) { buffer in
            for (i, argument) in arguments.enumerated() { buffer.storeBytes(of: argument, toByteOffset: i * 8, as: Int.self) }
        }
        var cOptions = cb_options()
        cOptions.timeout_ns = options.timeout.nanoseconds
        cOptions.signal = options.signal.rawValue
        cOptions.abort_on_mismatch = options.onMismatch == .abort ? 1 : 0
        cOptions.probe = probe ? 1 : 0
        cOptions.relaxed = options.mode == .relaxed ? 1 : 0
        var report = cb_report()
        withUnsafePointer(to: &raw) { args in
            args.withMemoryRebound(to: CLong.self, capacity: 6) { cb_broadcast(call.rawValue, $0, &cOptions, &report) }
        }
        defer { cb_report_free(&report) }
        return try BroadcastReport(report)
    }
}

extension Duration {
    /// The duration in whole nanoseconds, saturating.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (ns, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : ns &+ attoseconds / 1_000_000_000
    }
}

extension BroadcastReport {
    /// Converts the engine's report, throwing for every status but success.
    init(_ report: cb_report) throws(AllThreadsError) {
        let problems = UnsafeBufferPointer(start: report.problems, count: Int(report.problem_count)).map(Problem.init)
        let caller = SyscallResult(rawValue: report.result)
        switch cb_status(rawValue: UInt32(bitPattern: report.status)) {
        case CB_OK:
            break
        case CB_CALL_FAILED:
            throw .callFailed(caller.errno ?? .invalidArgument)
        case CB_UNREACHABLE:
            // Relaxed: a thread that took the signal but had not finished is named too.
            let unreachable = problems.compactMap { $0.kind == CB_PROBLEM_UNREACHABLE || $0.kind == CB_PROBLEM_NO_RESULT ? $0.issue : nil }
            throw report.changed != 0 ? .unreachableAfterChange(unreachable) : .unreachable(unreachable)
        case CB_MISMATCH:
            throw .mismatch(caller: caller, threads: problems.compactMap { $0.kind == CB_PROBLEM_MISMATCH ? $0.threadResult : nil })
        case CB_INCOMPLETE:
            throw .incomplete(problems.compactMap { $0.kind == CB_PROBLEM_NO_RESULT || $0.kind == CB_PROBLEM_MISMATCH ? $0.threadResult : nil })
        case CB_BUSY:
            throw .busy
        case CB_SETUP_FAILED:
            throw .setupFailed(Errno(rawValue: report.setup_errno))
        default:
            throw .invalidArgument("the engine rejected the options")
        }
        self.init(
            result: report.result,
            threads: Int(report.threads),
            rounds: Int(report.rounds),
            skipped: problems.compactMap { $0.kind == CB_PROBLEM_SKIPPED ? $0.issue : nil },
            elapsed: .nanoseconds(report.elapsed_ns)
        )
    }
}

/// One entry of the engine's problem list, decoded.
private struct Problem {
    var kind: cb_problem_kind
    var issue: ThreadIssue
    var threadResult: ThreadResult

    init(_ p: cb_problem) {
        var name = p.name
        let text = withUnsafeBytes(of: &name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        kind = cb_problem_kind(rawValue: UInt32(bitPattern: p.kind))
        let state = p.state == 0 ? nil : Character(Unicode.Scalar(UInt8(bitPattern: p.state)))
        issue = ThreadIssue(tid: p.tid, name: text, state: state, reason: Self.reason(p))
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
        case CB_REASON_EXITING: .exiting
        case CB_REASON_STILL_RUNNING: .stillRunning
        default: .noResponse
        }
    }
}
