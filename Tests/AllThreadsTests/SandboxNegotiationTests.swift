import AllThreads
import XCTest

/// A sandbox negotiated with each Landlock ABI, in both compatibility modes; nothing runs.
final class SandboxNegotiationTests: XCTestCase {
    private func sandbox(_ compatibility: Sandbox.Compatibility, scopes: LandlockScope = .all) throws -> Sandbox {
        try Sandbox(paths: [.init("/usr", .readExecute)], ports: [.init(443, .connectTCP)], scopes: scopes, compatibility: compatibility)
    }

    func testStrictNamesEachMissingRightWithItsABI() throws {
        XCTAssertNoThrow(try sandbox(.strict).negotiate(abi: 7))
        XCTAssertNoThrow(try sandbox(.strict).negotiate(abi: 6))
        XCTAssertThrowsError(try sandbox(.strict).negotiate(abi: 5)) { error in
            XCTAssertEqual(error as? AllThreadsError, .landlockUnsupported(abi: 5, missing: ["scope abstract_unix_socket (ABI 6)", "scope signal (ABI 6)"]))
        }
        XCTAssertThrowsError(try sandbox(.strict, scopes: []).negotiate(abi: 1)) { error in
            XCTAssertEqual(
                error as? AllThreadsError,
                .landlockUnsupported(
                    abi: 1,
                    missing: [
                        "refer (ABI 2)", "truncate (ABI 3)", "ioctl_dev (ABI 5)", "connect_tcp (ABI 4)",
                    ]))
        }
    }

    func testBestEffortKeepsWhatTheABIHasAndSaysWhatItDropped() throws {
        let full = try sandbox(.bestEffort).negotiate(abi: 7)
        XCTAssertEqual([full.fileSystemLayer, full.networkLayer, full.scopesLayer], [.enforced, .enforced, .enforced])
        let four = try sandbox(.bestEffort).negotiate(abi: 4)
        XCTAssertEqual(four.fileSystem, FileSystemAccess.all.subtracting(.ioctlDevice))
        XCTAssertEqual(four.fileSystemLayer, .partiallyEnforced(missing: ["ioctl_dev"]))
        XCTAssertEqual(four.networkLayer, .enforced)
        XCTAssertEqual(four.scopesLayer, .notEnforced(missing: ["abstract_unix_socket", "signal"]))
        XCTAssertEqual(four.scopes, [])
        let none = try sandbox(.bestEffort).negotiate(abi: 0)
        XCTAssertEqual([none.fileSystem.rawValue, none.network.rawValue, none.scopes.rawValue], [0, 0, 0])
        XCTAssertEqual(none.networkLayer, .notEnforced(missing: ["connect_tcp"]))
    }

    func testRightsKnowTheirABI() {
        XCTAssertEqual(FileSystemAccess.supported(byABI: 1), FileSystemAccess(rawValue: (1 << 13) - 1))
        XCTAssertEqual(FileSystemAccess.supported(byABI: 3), FileSystemAccess.all.subtracting(.ioctlDevice))
        XCTAssertEqual(FileSystemAccess.all.minimumABI, 5)
        XCTAssertEqual(FileSystemAccess(rawValue: 1 << 40).minimumABI, .max)
        XCTAssertEqual(FileSystemAccess.readWrite.intersection([.execute, .refer]), [])
    }

    /// ABI 8 gives one domain for the whole process (TSYNC); below it, a domain per thread.
    func testABI8NegotiatesOneDomainForTheProcess() throws {
        XCTAssertTrue(try sandbox(.strict).negotiate(abi: 8).processWideDomain)
        XCTAssertTrue(try sandbox(.bestEffort).negotiate(abi: 9).processWideDomain)
        XCTAssertFalse(try sandbox(.strict).negotiate(abi: 7).processWideDomain)
        XCTAssertFalse(try sandbox(.bestEffort).negotiate(abi: 1).processWideDomain)
    }
}
