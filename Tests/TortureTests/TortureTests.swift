import AllThreadsTestSupport
import XCTest

@testable import allthreads_scenarios

/// The bounded torture matrix (`scripts/torture.sh` runs the same; `--full` for more rounds).
final class TortureTests: XCTestCase {
    /// Every row passes; a row that cannot run here makes the test a skip naming it (through
    /// `scenario`), never a pass.
    func testBoundedTortureMatrixIsAllGreen() throws {
        // 28 rows take about 150 s on an idle 2-core machine, more under load: a deadline with room.
        let output = try scenario("torture", [], timeout: 480, file: #filePath, line: #line)
        XCTAssertTrue(output.contains("all green"), output)
    }

    /// The summary says "all green" only when every row ran; rows that cannot run make it a
    /// `SKIPPED:` summary naming each with its reason and counting the rows that passed.
    func testRowsThatCannotRunAreSkipsWithTheirReasonNotGreen() {
        var passed = TortureRunner.Outcome(), skipped = TortureRunner.Outcome()
        passed.verdict = "pass"
        skipped.verdict = "cannot run: io_uring is disabled on this kernel"
        skipped.skipReason = "io_uring is disabled on this kernel"
        let mixed = TortureRunner.summary([("torture-churn", passed), ("odd-io-uring", skipped)], full: false)
        XCTAssertEqual(mixed, "SKIPPED: 1 of 2 rows cannot run here (odd-io-uring: io_uring is disabled on this kernel); the other 1 pass (bounded matrix)")
        XCTAssertEqual(TortureRunner.summary([("torture-churn", passed)], full: true), "1 rows, all green (full matrix)")
    }

    /// A scenario name defined in two files' tables is an error naming it, not one of them
    /// silently dropped; the real tables have none.
    func testDuplicateScenarioNamesAreAnError() throws {
        let scenario: Scenario = { _ in "" }
        XCTAssertThrowsError(try ScenarioTable.merged([["a": scenario, "b": scenario], ["b": scenario]])) { error in
            XCTAssertEqual("\(error)", "two scenarios are named 'b'")
        }
        let table = try ScenarioTable.all()
        XCTAssertEqual(table.count, ScenarioTable.parts.map(\.count).reduce(0, +))
    }
}
