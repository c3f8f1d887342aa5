import Foundation
import SystemPackage
import XCTest

@testable import AllThreads

/// `HostAudit` on a made-up /proc tree: no process is spawned.
final class HostAuditTests: XCTestCase {
    // MARK: A made-up /proc

    /// Status text of a root thread named `name`, with uids `uid` and no_new_privs as given.
    private func status(_ name: String, uid: UInt32 = 0, noNewPrivs: Bool = false) throws -> String {
        var thread = try ThreadState(tid: 1, status: ThreadStateParsingTests.rootStatus)
        thread.name = name
        thread.credentials.uids = IDs(all: UserID(rawValue: uid))
        thread.credentials.noNewPrivs = noNewPrivs
        return thread.statusText
    }

    /// Writes `text` to `path` under `root`, making the directories on the way.
    private func write(_ text: String, _ path: String, under root: URL) throws {
        let url = root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: false, encoding: .utf8)
    }

    /// Writes thread `tid` of process `pid`: its status and stat files.
    private func writeThread(pid: Int32, tid: Int32, _ status: String, under root: URL) throws {
        try write(status, "\(pid)/task/\(tid)/status", under: root)
        try write(ThreadStateParsingTests.stat(pid: tid, comm: "t\(tid)", flags: 0, nice: 0), "\(pid)/task/\(tid)/stat", under: root)
    }

    /// A /proc tree holding a uniform process (1), a divergent one (2), two that vanished (3:
    /// its only thread has no status any more; 5: no task directory), an unreadable one (4: its
    /// status is a directory, so read(2) fails with EISDIR), a malformed one (7) and entries that
    /// are not processes.
    private func fakeProc() throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fake-proc-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: root) }
        try write("uniform\n", "1/comm", under: root)
        try write("uniform\0--flag\0", "1/cmdline", under: root)
        try writeThread(pid: 1, tid: 1, status("uniform"), under: root)
        try writeThread(pid: 1, tid: 9, status("worker"), under: root)

        try write("divergent\n", "2/comm", under: root)
        try write("divergent\0-x\0", "2/cmdline", under: root)
        try writeThread(pid: 2, tid: 2, status("divergent"), under: root)
        try writeThread(pid: 2, tid: 3, status("pool"), under: root)
        try writeThread(pid: 2, tid: 4, status("odd", uid: 1000, noNewPrivs: true), under: root)

        try FileManager.default.createDirectory(at: root.appendingPathComponent("3/task/3"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("5"), withIntermediateDirectories: true)

        try write("locked\n", "4/comm", under: root)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("4/task/4/status"), withIntermediateDirectories: true)

        try write("Name:\tbroken\nState:\tS (sleeping)\n", "7/task/7/status", under: root)

        try FileManager.default.createDirectory(at: root.appendingPathComponent("sys"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("self").path, withDestinationPath: "1")
        return root
    }

    func testFakeProcFindsTheDivergentProcessAndCountsTheRest() throws {
        let root = try fakeProc()
        let audit = try HostAudit.current(procRoot: root.path)
        XCTAssertFalse(audit.agree)
        XCTAssertEqual(audit.checkedProcesses, 2)
        XCTAssertEqual(audit.vanishedProcesses, 2)

        XCTAssertEqual(audit.divergent.map(\.pid), [2])
        let divergent = try XCTUnwrap(audit.divergent.first)
        XCTAssertEqual(divergent.name, "divergent")
        XCTAssertEqual(divergent.commandLine, ["divergent", "-x"])
        XCTAssertEqual(divergent.comparison.snapshot.threads.map(\.tid), [2, 3, 4])
        XCTAssertEqual(divergent.comparison.reference?.tid, 2)
        XCTAssertEqual(
            divergent.comparison.differences,
            [
                ThreadDifference(
                    thread: ThreadIdentity(tid: 4, name: "odd"),
                    fields: [
                        FieldDifference(field: "uid", value: "1000/1000/1000/1000", expected: "0/0/0/0"),
                        FieldDifference(field: "no_new_privs", value: "1", expected: "0"),
                    ])
            ])

        XCTAssertEqual(audit.unreadable.map(\.pid), [4, 7])
        XCTAssertEqual(audit.unreadable.map(\.name), ["locked", nil])
        XCTAssertEqual(audit.unreadable.map(\.error.kind), [.unreadable(.isDirectory), .malformed(field: "Uid")])
        let locked = audit.unreadable.first?.description ?? ""
        XCTAssertTrue(locked.hasPrefix("pid 4 (locked): \(root.path)/4/task/4/status: unreadable ("), locked)
    }

    func testFakeProcWithoutDivergenceAgrees() throws {
        let root = try fakeProc()
        try FileManager.default.removeItem(at: root.appendingPathComponent("2/task/4"))
        let audit = try HostAudit.current(procRoot: root.path)
        XCTAssertTrue(audit.agree)
        XCTAssertEqual(audit.checkedProcesses, 2)
        XCTAssertEqual(audit.unreadable.map(\.pid), [4, 7])
    }

    func testMissingProcRootThrows() {
        let result = Result { () throws(ProcfsError) in try HostAudit.current(procRoot: "/no/such/proc") }
        guard case .failure(let error) = result else { return XCTFail("audited /no/such/proc") }
        XCTAssertEqual(error, ProcfsError(path: "/no/such/proc", kind: .unreadable(.noSuchFileOrDirectory)))
    }

    func testCommandLineKeepsEmptyAndRewrittenArguments() {
        XCTAssertEqual(HostAudit.commandLine(Array("a\0b c\0".utf8)), ["a", "b c"])
        XCTAssertEqual(HostAudit.commandLine(Array("a\0\0".utf8)), ["a", ""])
        XCTAssertEqual(HostAudit.commandLine(Array("nginx: worker process".utf8)), ["nginx: worker process"])
        XCTAssertEqual(HostAudit.commandLine([]), [])
    }
}
