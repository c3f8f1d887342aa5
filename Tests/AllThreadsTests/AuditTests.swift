@testable import AllThreads
import Foundation
import SystemPackage
import XCTest

/// `HostAudit` on a made-up /proc tree, and `allthreads inspect --all` inside a private PID
/// namespace with its own /proc, where the only processes are the test's own.
final class AuditTests: XCTestCase {
    // MARK: A made-up /proc

    /// Status text of a root thread named `name`, with uids `uid` and no_new_privs as given.
    private func status(_ name: String, uid: UInt32 = 0, noNewPrivs: Bool = false) throws -> String {
        var thread = try ThreadState(tid: 1, status: ThreadStateParsingTests.rootStatus)
        thread.name = name
        thread.credentials.uids = IDs(real: uid, effective: uid, saved: uid, filesystem: uid)
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

    // MARK: A private PID namespace

    /// The JSON `inspect --all --json` prints.
    struct Audit: Decodable {
        struct Process: Decodable {
            var pid: Int32
            var comm: String
            var cmdline: [String]
            var threadCount: Int
            var differing: [CLITests.Difference]
        }
        struct Unreadable: Decodable {
            var pid: Int32
        }
        var agree: Bool
        var checkedProcesses: Int
        var vanishedProcesses: Int
        var differing: [Process]
        var unreadable: [Unreadable]
    }

    /// Run by bash as pid 1 of a new PID namespace with its own /proc: starts three uniform
    /// helpers and, when $3 is 1, one whose thread `divergent` set its own uids to 1000; prints
    /// each helper's `ready <pid> <tid>` line (tid 0 when uniform), then the output of
    /// `allthreads inspect --all` with the options that follow and `status N`. When bash exits,
    /// the kernel kills every process left in the namespace.
    static let namespaceScript = #"""
        set -euo pipefail
        scenarios=$1 allthreads=$2 divergent=$3
        shift 3
        start() {
            exec {fd}< <(exec "$scenarios" divergent-thread --threads 4 --diverge "$1" --wait 120)
            read -r -t 30 -u "$fd" line || { echo "a helper did not start within 30 s" >&2; exit 3; }
            echo "$line"
        }
        start 0; start 0; start 0
        if [ "$divergent" = 1 ]; then start 1; fi
        status=0
        "$allthreads" inspect --all "$@" || status=$?
        echo "status $status"
        """#

    /// What ``namespaceScript`` printed.
    struct NamespaceRun {
        /// Each helper's pid and divergent tid (0 for the uniform ones), in start order.
        var helpers: [(pid: Int32, tid: Int32)]
        /// The lines `allthreads inspect --all` printed.
        var output: [Substring]
        /// Its standard error.
        var stderr: String
        /// Its exit status.
        var status: Int32
    }

    /// Runs ``namespaceScript`` with `options` after `inspect --all`.
    private func auditInNamespace(divergent: Bool, _ options: [String] = [], file: StaticString = #filePath, line: UInt = #line)
        throws -> NamespaceRun
    {
        let unshare = URL(fileURLWithPath: "/usr/bin/unshare")
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: unshare.path), "util-linux unshare is missing", file: file, line: line)
        let products = productsDirectory()
        let result = try runExecutable(
            unshare,
            [
                "--pid", "--fork", "--mount-proc", "bash", "-c", Self.namespaceScript, "audit",
                products.appendingPathComponent("allthreads-scenarios").path, products.appendingPathComponent("allthreads").path,
                divergent ? "1" : "0",
            ] + options, timeout: 60, file: file, line: line)
        let context = "\(result.stdout)\n\(result.stderr)"
        XCTAssertEqual(result.status, 0, context, file: file, line: line)
        var lines = result.stdout.split(separator: "\n")
        let status = try XCTUnwrap(lines.popLast().flatMap { Int32($0.dropFirst("status ".count)) }, context, file: file, line: line)
        let helperCount = divergent ? 4 : 3
        let helpers = try lines.prefix(helperCount).map { ready in
            let words = ready.split(separator: " ")
            XCTAssertEqual(words.count, 3, context, file: file, line: line)
            XCTAssertEqual(words.first, "ready", context, file: file, line: line)
            return (pid: try XCTUnwrap(Int32(words[1]), context), tid: try XCTUnwrap(Int32(words[2]), context))
        }
        XCTAssertEqual(helpers.count, helperCount, context, file: file, line: line)
        XCTAssertEqual(helpers.map { $0.tid != 0 }, Array(repeating: false, count: 3) + (divergent ? [true] : []), context, file: file, line: line)
        return NamespaceRun(helpers: helpers, output: Array(lines.dropFirst(helperCount)), stderr: result.stderr, status: status)
    }

    /// The audit `inspect --all --json` printed.
    private func decode(_ run: NamespaceRun) throws -> Audit {
        XCTAssertEqual(run.output.count, 1, "\(run.output)")
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Audit.self, from: Data(try XCTUnwrap(run.output.first).utf8))
    }

    func testInspectAllFindsExactlyTheDivergentHelperInAPIDNamespace() throws {
        let run = try auditInNamespace(divergent: true, ["--json"])
        let audit = try decode(run)
        let context = "\(run) \(audit)"
        XCTAssertEqual(run.status, 1, context)
        XCTAssertFalse(audit.agree, context)
        // bash, four helpers, allthreads itself: nothing else lives in the namespace.
        XCTAssertEqual(audit.checkedProcesses, 6, context)
        XCTAssertEqual(audit.vanishedProcesses, 0, context)
        XCTAssertTrue(audit.unreadable.isEmpty, context)

        let odd = try XCTUnwrap(run.helpers.last, context)
        XCTAssertEqual(audit.differing.map(\.pid), [odd.pid], context)
        let process = try XCTUnwrap(audit.differing.first, context)
        XCTAssertEqual(process.comm, "allthreads-scen", context)
        XCTAssertEqual(process.cmdline.dropFirst().first, "divergent-thread", context)
        XCTAssertGreaterThanOrEqual(process.threadCount, 6, context)
        XCTAssertEqual(process.differing.map(\.tid), [odd.tid], context)
        XCTAssertEqual(process.differing.first?.name, "divergent", context)
        // Leaving uid 0 cleared the thread's permitted and effective capabilities too.
        let fields = try XCTUnwrap(process.differing.first?.fields, context)
        XCTAssertEqual(fields.map(\.field), ["uid", "CapPrm", "CapEff"], context)
        XCTAssertEqual(fields.first?.value, "1000/1000/1000/1000", context)
        XCTAssertEqual(fields.first?.expected, "0/0/0/0", context)
        XCTAssertEqual(fields.dropFirst().map(\.value), ["0000000000000000", "0000000000000000"], context)
        XCTAssertEqual(run.stderr, "allthreads: 1 of 6 processes have threads that differ: pid \(odd.pid) (allthreads-scen)\n")
    }

    func testInspectAllAsTextNamesTheDivergentThreadInAPIDNamespace() throws {
        let run = try auditInNamespace(divergent: true)
        let odd = try XCTUnwrap(run.helpers.last)
        let context = "\(run)"
        XCTAssertEqual(run.status, 1, context)
        XCTAssertEqual(run.output.count, 3, context)
        XCTAssertTrue(run.output.first?.hasPrefix("pid \(odd.pid) (allthreads-scen) ") == true, context)
        XCTAssertTrue(run.output.first?.contains(" divergent-thread --threads 4 --diverge 1 ") == true, context)
        XCTAssertTrue(run.output.first?.contains(": 1 of ") == true, context)
        XCTAssertEqual(run.output.dropFirst().first?.hasPrefix("  tid \(odd.tid) (divergent): uid 1000/1000/1000/1000, expected 0/0/0/0, CapPrm "), true, context)
        XCTAssertEqual(run.output.last, "6 processes checked, 1 with threads that differ", context)
    }

    func testInspectAllExitsZeroWhenNoProcessDiffersInAPIDNamespace() throws {
        let run = try auditInNamespace(divergent: false, ["--json"])
        let audit = try decode(run)
        let context = "\(run) \(audit)"
        XCTAssertEqual(run.status, 0, context)
        XCTAssertEqual(run.stderr, "", context)
        XCTAssertTrue(audit.agree, context)
        XCTAssertTrue(audit.differing.isEmpty, context)
        XCTAssertTrue(audit.unreadable.isEmpty, context)
        XCTAssertEqual(audit.checkedProcesses, 5, context)

        let text = try auditInNamespace(divergent: false)
        XCTAssertEqual(text.status, 0, "\(text)")
        XCTAssertEqual(text.output, ["5 processes checked, 0 with threads that differ"], "\(text)")
    }

    func testAllWithPidIsAUsageError() throws {
        let result = try runProduct("allthreads", ["inspect", "--all", "--pid", "1", "--json"], timeout: 60)
        XCTAssertEqual(result.status, 2, result.stderr)
        XCTAssertEqual(result.stdout, "")
        XCTAssertEqual(result.stderr, "allthreads: --all and --pid exclude each other\n")
    }
}
