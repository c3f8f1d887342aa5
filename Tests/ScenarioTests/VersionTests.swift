import AllThreadsTestSupport
import Foundation
import XCTest

/// The release the package is at: `allthreads --version` prints the newest version of
/// CHANGELOG.md, so a tag, the changelog and the command cannot drift apart.
final class VersionTests: XCTestCase {
    func testTheCommandsVersionIsTheChangelogsNewest() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let changelog = try String(contentsOf: root.appendingPathComponent("CHANGELOG.md"), encoding: .utf8)
        let newest = try XCTUnwrap(changelog.split(separator: "\n").first { $0.hasPrefix("## ") }).dropFirst(3)
        XCTAssertNotNil(newest.wholeMatch(of: /[0-9]+\.[0-9]+\.[0-9]+/), "CHANGELOG.md's newest heading is not a version: \(newest)")
        let result = try runProduct("allthreads", ["--version"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, "\(newest)\n")
    }
}
