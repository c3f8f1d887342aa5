import AllThreadsTestSupport
import XCTest

/// The engine's promises, each proven in a process of its own through /proc.
final class EngineScenarioTests: XCTestCase {
    /// Done 1: 200 threads of mixed kinds all reach uid/gid 65534.
    func testMixedThreadKindsAllDropToNobody() throws { try scenario("mixed-drop", ["--threads", "200"]) }

    /// Done 2: a thread blocking the signal makes the broadcast unreachable, naming it; nothing changes.
    func testBlockedSignalIsUnreachableAndNothingChanges() throws { try scenario("blocked-signal") }

    /// Done 3: a per-thread seccomp filter returning EPERM is a mismatch naming that thread.
    func testSeccompThreadIsAMismatchNamingIt() throws { try scenario("seccomp-mismatch") }

    /// The abort policy kills the process with SIGABRT and names the thread on stderr.
    func testAbortPolicyAbortsAndNamesTheThread() throws {
        let result = try runProduct("allthreads-scenarios", ["mismatch-abort"], environment: ["SWIFT_BACKTRACE": "enable=no"])
        XCTAssertEqual(result.status, SIGABRT, result.stdout + result.stderr)
        let tid = try XCTUnwrap(result.stdout.split(separator: "\n").first { $0.hasPrefix("odd tid ") }?.dropFirst(8))
        XCTAssertTrue(result.stderr.contains("threads disagree"), result.stderr)
        XCTAssertTrue(result.stderr.contains("tid \(tid) (wl-seccomp) step 1 got -1, expected 0"), result.stderr)
    }

    /// The zombie main thread (pthread_exit) is skipped and reported, never waited for.
    func testZombieMainThreadIsSkipped() throws { try scenario("zombie-main") }

    /// A frozen caller cannot hold the other threads forever (every wait has a deadline).
    func testHeldThreadsGiveUpWhenTheCallerIsFrozen() throws { try scenario("held-deadline") }

    /// Done 4: thread churn during 200 broadcasts (60 under a sanitizer); every live thread has
    /// each new value.
    func testThreadChurnMissesNoThread() throws { try scenario("churn", ["--rounds", sanitizerScaled(200, sanitized: 60)]) }

    /// Done 5: malloc/free and stdio loops in other threads never deadlock a broadcast.
    func testMallocStormDoesNotDeadlock() throws { try scenario("malloc-storm", ["--rounds", "200"]) }

    /// Done 6: glibc's setresuid in a loop alongside our broadcasts: both keep working.
    func testGlibcSetxidAndOursInterleave() throws { try scenario("glibc-interleave", ["--rounds", "200"]) }

    /// Done 7: eight threads broadcasting at once all succeed.
    func testEightConcurrentBroadcasters() throws { try scenario("concurrent", ["--broadcasters", "8", "--rounds", "25"]) }

    /// Done 8: forged signals from another process never run the call (100 rounds and 4,000
    /// forged signals; 30 and 1,200 under a sanitizer).
    func testForgedSignalsRunNothing() throws {
        try scenario("forged-signal", ["--rounds", sanitizerScaled(100, sanitized: 30), "--signals", sanitizerScaled(4000, sanitized: 1200)])
    }

    /// Done 9: a child forked after a broadcast can broadcast.
    func testForkedChildCanBroadcast() throws {
        try skipUnderSanitizer("thread", because: "ThreadSanitizer cannot start threads in the child of a multi-threaded fork")
        try scenario("fork-child")
    }
}
