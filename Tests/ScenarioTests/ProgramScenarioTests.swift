import AllThreadsTestSupport
import XCTest

/// Programs of many steps, one broadcast each, in both modes; every thread checked from /proc
/// and by its kernel write counter, in a process of its own.
final class ProgramScenarioTests: XCTestCase {
    private func bothModes(_ name: String, _ options: [String] = []) throws {
        for mode in ["strict", "relaxed"] { try scenario(name, options + ["--mode", mode]) }
    }

    /// 200+ threads of every kind run a 50-step drop once each.
    func testFiftyStepDropRunsOnceOnEveryThread() throws { try bothModes("program-50") }

    /// An unreachable thread is named; strict: no step ran anywhere.
    func testUnreachableThreadMeansNoStepRan() throws { try bothModes("program-unreachable") }

    /// The caller's step 3 fails: every thread holds exactly steps 1 and 2.
    func testCallerFailureLeavesExactlyTheEarlierSteps() throws { try bothModes("program-caller-fails") }

    /// One thread's seccomp filter denies step 2: it is named and stops there; the others finish.
    func testThreadThatCannotRunAStepIsNamed() throws { try bothModes("program-thread-stops") }

    /// Churn and 8 concurrent broadcasters: every long-lived thread ran each program exactly once.
    func testChurnAndConcurrentProgramsRunOnceEach() throws { try bothModes("program-churn") }

    /// Bad programs are refused before anything runs; nothing changed.
    func testBadProgramsAreRefusedBeforeAnythingRuns() throws { try scenario("program-bad-input") }

    /// A thread on which `setuid(0)` does not fail makes the drop's proof fail, naming it.
    func testDropProofNamesAThreadThatCanRegainRoot() throws { try bothModes("drop-proof-fails") }
}
