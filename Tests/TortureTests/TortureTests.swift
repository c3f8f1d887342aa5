import AllThreadsTestSupport
import XCTest

/// The bounded torture matrix (`scripts/torture.sh` runs the same; `--full` for more rounds).
final class TortureTests: XCTestCase {
    func testBoundedTortureMatrixIsAllGreen() throws {
        let output = try scenario("torture", [], file: #filePath, line: #line)
        XCTAssertTrue(output.contains("all green"), output)
    }
}
