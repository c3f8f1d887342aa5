import AllThreads
import AllThreadsCLISupport
import Glibc
import XCTest

/// ``SecureExecution``: when a process must refuse to run, decided from its state alone.
final class SecureExecutionTests: XCTestCase {
    /// Every combination of AT_SECURE, user ids that agree or differ, and group ids that agree
    /// or differ: only all three clear may run; differing ids are named, user ids first.
    func testEveryCombinationOfSecureModeAndIDs() {
        let uidsDiffer = SecureExecution.Refusal.setUserID(real: 1000, effective: 0)
        let gidsDiffer = SecureExecution.Refusal.setGroupID(real: 100, effective: 0)
        let table: [(atSecure: Bool, uidsDiffer: Bool, gidsDiffer: Bool, SecureExecution.Refusal?)] = [
            (false, false, false, nil),
            (false, false, true, gidsDiffer),
            (false, true, false, uidsDiffer),
            (false, true, true, uidsDiffer),
            (true, false, false, .secureExecution),
            (true, false, true, gidsDiffer),
            (true, true, false, uidsDiffer),
            (true, true, true, uidsDiffer),
        ]
        for (atSecure, uidDiffers, gidDiffers, expected) in table {
            let state = SecureExecution(atSecure: atSecure, uid: 1000, euid: uidDiffers ? 0 : 1000, gid: 100, egid: gidDiffers ? 0 : 100)
            XCTAssertEqual(state.refusal, expected, "\(state)")
            do throws(SecureExecution.Refusal) {
                try state.requireOrdinary()
                XCTAssertNil(expected, "\(state) may not run")
            } catch {
                XCTAssertEqual(error, expected, "\(state)")
            }
        }
    }

    /// An effective id lower or higher than the real one is refused alike (set-user-ID files
    /// owned by any user, not only root).
    func testEitherDirectionOfDifferingIDsIsRefused() {
        XCTAssertEqual(SecureExecution(atSecure: true, uid: 0, euid: 1000, gid: 0, egid: 0).refusal, .setUserID(real: 0, effective: 1000))
        XCTAssertEqual(SecureExecution(atSecure: true, uid: 0, euid: 0, gid: 0, egid: 100).refusal, .setGroupID(real: 0, effective: 100))
    }

    /// Root with every id 0 in secure-execution mode (an LSM transition) still refuses.
    func testSecureModeRefusesEvenWhenEveryIDIsRoot() {
        XCTAssertEqual(SecureExecution(atSecure: true, uid: 0, euid: 0, gid: 0, egid: 0).refusal, .secureExecution)
        XCTAssertNil(SecureExecution(atSecure: false, uid: 0, euid: 0, gid: 0, egid: 0).refusal)
    }

    /// Each refusal is one line that names the ids and says what to use instead.
    func testRefusalsAreOneLineNamingTheIDs() {
        let cases: [(SecureExecution.Refusal, String)] = [
            (.setUserID(real: 65534, effective: 0), "refusing to run set-user-ID (real uid 65534, effective uid 0)"),
            (.setGroupID(real: 65534, effective: 0), "refusing to run set-group-ID (real gid 65534, effective gid 0)"),
            (.secureExecution, "refusing to run in secure-execution mode (AT_SECURE"),
        ]
        for (refusal, start) in cases {
            XCTAssertTrue(refusal.description.hasPrefix(start), refusal.description)
            XCTAssertTrue(refusal.description.contains("sudo"), refusal.description)
            XCTAssertFalse(refusal.description.contains("\n"), refusal.description)
        }
    }

    /// The test runner, started by root without a set-ID file, reads as an ordinary process
    /// with its own ids.
    func testTheTestRunnerIsOrdinary() {
        let current = SecureExecution.current()
        XCTAssertEqual(current, SecureExecution(atSecure: false, uid: getuid(), euid: geteuid(), gid: getgid(), egid: getegid()))
        XCTAssertNil(current.refusal)
    }
}
