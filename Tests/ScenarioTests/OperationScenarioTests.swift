import AllThreads
import AllThreadsTestSupport
import SystemPackage
import XCTest

/// The typed operations: each scenario runs in a process of its own with 64+
/// threads of mixed kinds and checks every thread through /proc.
final class OperationScenarioTests: XCTestCase {
    func testCredentialCallsChangeEveryThread() throws { try scenario("op-credentials") }
    func testCapabilityCallsChangeEveryThread() throws { try scenario("op-capabilities") }
    func testAttributesChangeEveryThread() throws { try scenario("op-attributes") }
    func testEveryThreadJoinsTheNetworkNamespace() throws { try scenario("op-netns") }
    func testEveryThreadEnforcesTheLandlockRuleset() throws { try scenario("op-landlock") }
    func testPrivilegeDropWithNoNewPrivsAndSeccompIsProven() throws { try scenario("op-drop") }
    func testPrivilegeDropKeepingACapability() throws { try scenario("op-drop-keep") }
    func testBadInputsAreRefusedAndNothingChanges() throws {
        let output = try scenario("op-bad-input")
        XCTAssertTrue(output.contains("18 bad inputs refused"), output)
    }
}
