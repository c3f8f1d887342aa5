@testable import AllThreads
import Foundation
import SystemPackage
import AllThreadsTestSupport
import XCTest

/// `allthreads inspect --all` inside a private PID namespace with its own /proc, where the only
/// processes are the test's own (the made-up /proc tree is in HostAuditTests).
final class AuditTests: XCTestCase {
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
