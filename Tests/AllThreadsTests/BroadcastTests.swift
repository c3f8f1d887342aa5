import AllThreads
import CBroadcast
import Foundation
import SystemPackage
import XCTest

/// Reversible broadcasts in the test process itself, checked through /proc.
final class BroadcastTests: XCTestCase {
    private func slacks() throws -> [Int32: Duration] {
        Dictionary(uniqueKeysWithValues: try ProcessSnapshot.current().threads.compactMap { t in t.timerSlack.map { (t.tid, $0) } })
    }

    private func setSlack(_ ns: Int) throws -> BroadcastReport {
        try Broadcast.syscall(.prctl, Int(PR_SET_TIMERSLACK), ns)
    }

    func testTimerSlackReachesEveryThreadOfTheTestRunner() throws {
        let helpers = (0..<8).map { _ in Thread { while true { sleep(1000) } } }
        helpers.forEach { $0.start() }
        let report = try setSlack(123_457)
        let snapshot = try ProcessSnapshot.current()
        XCTAssertGreaterThanOrEqual(report.threads, 9)
        XCTAssertEqual(report.threads, snapshot.threads.filter { !$0.runsNoCode }.count)
        for thread in snapshot.threads where !thread.runsNoCode {
            XCTAssertEqual(thread.timerSlack, .nanoseconds(123_457), "tid \(thread.tid) (\(thread.name))")
        }
        _ = try setSlack(50_000)
    }

    func testFailingCallOnTheCallerChangesNothing() throws {
        _ = try setSlack(222_222)
        let before = EngineStatistics.current
        XCTAssertThrowsError(try Broadcast.syscall(.close, -1)) { error in
            XCTAssertEqual(error as? AllThreadsError, .callFailed(.badFileDescriptor))
        }
        XCTAssertEqual(EngineStatistics.current.handlerRuns, before.handlerRuns, "no other thread may run a call that failed on the caller")
        XCTAssertTrue(try slacks().values.allSatisfy { $0 == .nanoseconds(222_222) })
        _ = try setSlack(50_000)
    }

    func testBadArgumentsAreRejectedBeforeAnythingRuns() throws {
        _ = try setSlack(333_333)
        let before = EngineStatistics.current
        let cases: [(() throws -> Void, String)] = [
            ({ try Broadcast.syscall(.prctl, arguments: [Int(PR_SET_TIMERSLACK), 1, 2, 3, 4, 5, 6]) }, "at most 6 arguments"),
            ({ try Broadcast.syscall(SystemCall(rawValue: -1), 0) }, "negative"),
            ({ try Broadcast.syscall(.prctl, Int(PR_SET_TIMERSLACK), 1, options: BroadcastOptions(signal: KernelSignal(rawValue: 10))) }, "signal 10"),
            ({ try Broadcast.syscall(.prctl, Int(PR_SET_TIMERSLACK), 1, options: BroadcastOptions(timeout: .zero)) }, "timeout"),
        ]
        for (call, message) in cases {
            XCTAssertThrowsError(try call()) { error in
                guard let text = (error as? AllThreadsError)?.message else { return XCTFail("\(error)") }
                XCTAssertTrue(text.contains(message), text)
            }
        }
        XCTAssertEqual(EngineStatistics.current.broadcasts, before.broadcasts, "a rejected call must not start a broadcast")
        XCTAssertTrue(try slacks().values.allSatisfy { $0 == .nanoseconds(333_333) }, "a rejected call changed a thread")
        _ = try setSlack(50_000)
    }

    func testSystemCallNames() {
        XCTAssertEqual(SystemCall(name: "setresuid"), .setresuid)
        XCTAssertEqual(SystemCall(name: "SYS_prctl"), .prctl)
        XCTAssertNil(SystemCall(name: "no_such_call"))
        XCTAssertEqual(SystemCall(name: "landlock_restrict_self")?.description, "landlock_restrict_self")
        XCTAssertNil(SystemCall(name: "setuid\u{0}x"))
        XCTAssertEqual(SystemCall(rawValue: 99999).description, "syscall 99999")
        XCTAssertEqual(SystemCall.setgroups.description, "setgroups")
    }

    func testErrorsNameTheThreads() {
        let issue = ThreadIssue(tid: 42, name: "worker", state: "S", reason: .signalBlocked)
        XCTAssertEqual(AllThreadsError.unreachable([issue]).description, "unreachable: tid 42 (worker): blocks the broadcast signal; no thread changed")
        let result = ThreadResult(tid: 7, name: "w", result: SyscallResult(rawValue: -1))
        XCTAssertTrue(
            AllThreadsError.mismatch(caller: SyscallResult(rawValue: 0), threads: [result]).description.contains("tid 7 (w): EPERM")
                || AllThreadsError.mismatch(caller: SyscallResult(rawValue: 0), threads: [result]).description.contains("tid 7 (w): Operation not permitted"))
    }

    /// A client matches an error by its code (`catch .unreachable`, `catch AllThreadsError.Code.x`
    /// where any error is thrown, `switch error.code`) and reads what it names from its properties;
    /// an error raised after threads changed keeps its own code and holds the failure inside.
    func testErrorsMatchByCodeAndKeepWhatChanged() {
        let issue = ThreadIssue(tid: 42, name: "worker", state: "S", reason: .signalBlocked)
        let unreachable = AllThreadsError.unreachable([issue])
        XCTAssertEqual(unreachable.code, .unreachable)
        XCTAssertEqual(unreachable.unreachableThreads, [issue])
        XCTAssertNil(unreachable.errno)
        XCTAssertTrue(AllThreadsError.Code.unreachable ~= unreachable)
        XCTAssertFalse(AllThreadsError.Code.unreachableAfterChange ~= unreachable)
        let anyError: any Error = unreachable
        XCTAssertTrue(AllThreadsError.Code.unreachable ~= anyError)
        XCTAssertFalse(AllThreadsError.Code.unreachable ~= ProcfsError(path: "/proc/x", kind: .malformed(field: "x")))

        let after = AllThreadsError.failedAfterChange(.callFailed(.invalidArgument))
        XCTAssertEqual(after.code, .failedAfterChange, "a failure after the change must not pass for one that changed nothing")
        XCTAssertFalse(AllThreadsError.Code.callFailed ~= after)
        XCTAssertEqual(after.underlyingError?.code, .callFailed)
        XCTAssertEqual(after.underlyingError?.errno, .invalidArgument)
        XCTAssertNil(after.errno)

        let retained = AllThreadsError.privilegeRetained([.ioUringNotProbed], threadsChanged: true)
        XCTAssertEqual(retained.retainedPrivileges, [.ioUringNotProbed])
        XCTAssertTrue(retained.foundAfterChange)
        XCTAssertFalse(AllThreadsError.privilegeRetained([.ioUringNotProbed], threadsChanged: false).foundAfterChange)
        XCTAssertEqual(AllThreadsError.Code(rawValue: "stepFailed"), .stepFailed)
    }
}
