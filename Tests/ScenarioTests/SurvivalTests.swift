import AllThreadsTestSupport
import Foundation
import XCTest

/// The engine survives what real processes do. Each scenario runs in both modes in a
/// process of its own and checks every thread through /proc.
final class SurvivalTests: XCTestCase {
    private func bothModes(_ name: String, _ extra: [String] = []) throws {
        for mode in ["strict", "relaxed"] { try scenario(name, ["--mode", mode] + extra) }
    }

    /// Runs scenario `name` in both modes in a new PID namespace (`unshare --pid --fork`), with a
    /// /proc of its own (`--mount-proc`) unless `ownProc` is false.
    private func bothModesInPIDNamespace(_ name: String, _ extra: [String] = [], ownProc: Bool = true) throws {
        let scenarios = productsDirectory().appendingPathComponent("allthreads-scenarios").path
        for mode in ["strict", "relaxed"] {
            let result = try runExecutable(
                URL(fileURLWithPath: "/usr/bin/unshare"), ["--pid", "--fork"] + (ownProc ? ["--mount-proc"] : []) + [scenarios, name, "--mode", mode] + extra)
            XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
            XCTAssertTrue(result.stdout.contains("PASS \(name)"), result.stdout + result.stderr)
        }
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
        try bothModesInPIDNamespace("tid-reuse", ["--rounds", "3"])
    }

    /// In a PID namespace without a /proc of its own, /proc names every thread by its id in the outer
    /// namespace: each is translated, reached, and checked through /proc by that outer name.
    func testPIDNamespaceWithTheOuterProcReachesEveryThread() throws {
        try bothModesInPIDNamespace("pidns-outer-proc", ["--threads", "30"], ownProc: false)
    }

    /// A thread that sees /proc of a PID namespace the process is not in (a child namespace's, whose
    /// mount namespace it entered alone) is refused with its own error, and no thread changes.
    func testProcOfAnotherPIDNamespaceIsRefusedUpFront() throws {
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        holder.arguments = ["--pid", "--fork", "--mount-proc", "--kill-child", "/bin/sleep", "60"]
        try holder.run()
        defer {
            kill(holder.processIdentifier, SIGKILL)
            holder.waitUntilExit()
        }
        // The child namespace's /proc is mounted once its first process runs sleep.
        var sleeper: Int32 = 0
        for _ in 0..<1000 where sleeper == 0 {
            let children = (try? String(contentsOfFile: "/proc/\(holder.processIdentifier)/task/\(holder.processIdentifier)/children", encoding: .utf8)) ?? ""
            if let child = children.split(separator: " ").first.flatMap({ Int32($0) }),
                (try? String(contentsOfFile: "/proc/\(child)/comm", encoding: .utf8)) == "sleep\n"
            {
                sleeper = child
            } else {
                usleep(1000)
            }
        }
        XCTAssertNotEqual(sleeper, 0, "the namespace holder did not start")
        for mode in ["strict", "relaxed"] {
            try scenario("pidns-foreign-proc", ["--mode", mode, "--mount-namespace", "/proc/\(sleeper)/ns/mnt"])
        }
    }

    /// A thread that dies inside the handler after its broadcast returned, whose tid a newborn
    /// takes before the next broadcast, is buried by that broadcast (its starttime), not waited for.
    func testLateDeathWhoseTidIsReusedIsBuried() throws {
        try bothModesInPIDNamespace("late-death-reused")
    }

    /// A caller that died holding the lock, whose tid a newborn takes, does not keep the lock: the
    /// next caller (and the newborn itself) tells them apart by starttime and takes it over.
    func testCallerDyingWhoseTidIsReusedReleasesTheLock() throws {
        try skipUnderSanitizer("thread", because: "ThreadSanitizer cannot see the ordering through a dead thread's exit")
        try bothModesInPIDNamespace("caller-died-reused")
    }

    /// Under a Landlock domain that denies reading /proc, the io_uring worker seen before is still
    /// skipped and every thread reached (checked through /proc files opened before the domain).
    func testLandlockDomainWithoutProcStillSkipsKernelWorkers() throws { try bothModes("landlock-no-proc") }

    /// The main thread that becomes a zombie under such a domain is still recognised and skipped.
    func testLandlockDomainWithoutProcStillSkipsTheZombieMainThread() throws { try bothModes("landlock-zombie-main") }

    /// A deadline of Int64.max nanoseconds does not wrap.
    func testEndlessDeadlineDoesNotWrap() throws { try bothModes("endless-deadline") }
}
