import AllThreadsTestSupport
import XCTest

/// The engine survives what real processes do. Each scenario runs in both modes in a
/// process of its own and checks every thread through /proc.
final class SurvivalTests: XCTestCase {
    private func bothModes(_ name: String, _ extra: [String] = []) throws {
        for mode in ["strict", "relaxed"] { try scenario(name, ["--mode", mode] + extra) }
    }

    /// A seccomp RET_TRAP at the step reaches the application's SIGSYS handler, which emulates it.
    func testTrapAtTheStepIsEmulated() throws { try bothModes("trap-in-step") }

    /// A thread killed at the step is named as died in the handler; the next broadcast works.
    func testThreadDyingInTheHandlerIsNamedAndForgotten() throws { try bothModes("died-in-handler") }

    /// A caller killed inside its own broadcast does not keep the lock.
    func testCallerDyingInsideItsBroadcastReleasesTheLock() throws {
        // The new owner reads what the dead one wrote after tgkill said ESRCH (the kernel orders
        // the exit before it); ThreadSanitizer sees no release by the dead thread and reports races.
        try skipUnderSanitizer("thread", because: "ThreadSanitizer cannot see the ordering through a dead thread's exit")
        try bothModes("caller-died")
    }

    /// A blocked step with threads inside malloc: every broadcast returns in time and names them.
    func testBlockedStepWithThreadsInsideMallocReturnsInTime() throws { try bothModes("malloc-inside") }

    /// A fork child's file at the engine's inherited descriptor number survives its broadcast.
    func testForkChildKeepsItsFileAtTheEngineNumber() throws {
        try skipUnderSanitizer("thread", because: "ThreadSanitizer cannot start threads in the child of a multi-threaded fork")
        try bothModes("fork-fd-reuse")
    }

    /// A newborn that takes a departed thread's tid during one broadcast is not taken for it
    /// (forced with ns_last_pid in a private PID namespace; the torture matrix runs more rounds).
    func testReusedTidIsNotTakenForTheDepartedThread() throws {
        for mode in ["strict", "relaxed"] {
            let scenarios = productsDirectory().appendingPathComponent("allthreads-scenarios").path
            let result = try runExecutable(
                URL(fileURLWithPath: "/usr/bin/unshare"), ["--pid", "--fork", "--mount-proc", scenarios, "tid-reuse", "--mode", mode, "--rounds", "3"])
            XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
            XCTAssertTrue(result.stdout.contains("PASS tid-reuse"), result.stdout + result.stderr)
        }
    }

    /// A deadline of Int64.max nanoseconds does not wrap.
    func testEndlessDeadlineDoesNotWrap() throws { try bothModes("endless-deadline") }
}
