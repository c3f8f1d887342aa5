import AllThreads
import AllThreadsCLISupport
import AllThreadsFaults
import CBroadcast
import Foundation

/// Helpers for the CLI tests: processes that `allthreads inspect --pid` looks at.
enum CLIScenarios {
    static let all: [String: Scenario] = [
        "divergent-thread": divergentThread
    ]

    /// Starts `--threads` threads (default 10); unless `--diverge 0`, one more thread changes its
    /// own uids to 1000 with a raw per-thread `setresuid`, so it alone differs. Prints
    /// `ready <pid> <tid>` (tid 0 without a divergent thread), then waits `--wait` seconds
    /// (default 120) for the test to inspect and kill it.
    static func divergentThread(_ args: ScenarioArguments) throws -> String {
        try ThreadCrowd.start(count: try args.int("threads", default: 10), kinds: [.pthreadPause, .pthreadRead, .swiftThread])
        var tid: Int32 = 0
        if try args.int("diverge", default: 1) != 0 {
            let changed = DispatchSemaphore(value: 0)
            let result = Result(-1)
            let thread = Thread {
                _ = "divergent".withCString { cb_syscall(Int(SYS_prctl), Int(PR_SET_NAME), Int(bitPattern: $0), 0, 0, 0, 0) }
                result.set(
                    tid: Int32(truncatingIfNeeded: cb_syscall(Int(SYS_gettid), 0, 0, 0, 0, 0, 0)),
                    outcome: cb_syscall(Int(SYS_setresuid), 1000, 1000, 1000, 0, 0, 0))
                changed.signal()
                while true { sleep(3600) }
            }
            thread.start()
            try require(changed.wait(timeout: .now() + 10) == .success, "the divergent thread did not start")
            try require(result.outcome == 0, "setresuid on the divergent thread returned \(result.outcome)")
            tid = result.tid
        }
        // Written at once (print would sit in the stdio buffer of a pipe).
        FileHandle.standardOutput.write(Data("ready \(getpid()) \(tid)\n".utf8))
        Thread.sleep(forTimeInterval: TimeInterval(try args.int("wait", default: 120)))
        return "waited; divergent tid \(tid)"
    }

    /// The divergent thread's tid and the result of its setresuid, written once by that thread.
    private final class Result: @unchecked Sendable {
        private let lock = NSLock()
        private var values: (tid: Int32, outcome: Int)

        init(_ outcome: Int) { values = (0, outcome) }

        func set(tid: Int32, outcome: Int) { lock.withLock { values = (tid, outcome) } }
        var tid: Int32 { lock.withLock { values.tid } }
        var outcome: Int { lock.withLock { values.outcome } }
    }
}
