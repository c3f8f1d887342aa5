import AllThreads
import AllThreadsCLISupport
import Foundation
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

    /// The test runner, started without a set-ID file, reads as an ordinary process with its
    /// own ids: the expectation comes from the kernel's own text (the calling thread's `Uid:`
    /// and `Gid:` in /proc, `AT_SECURE` in /proc/self/auxv), not from the calls under test.
    func testTheTestRunnerIsOrdinary() throws {
        let status = try String(contentsOfFile: "/proc/thread-self/status", encoding: .utf8).split(separator: "\n")
        func ids(_ key: String) throws -> [UInt32] {
            let line = try XCTUnwrap(status.first { $0.hasPrefix(key + ":") }, key)
            return line.dropFirst(key.count + 1).split(whereSeparator: \.isWhitespace).compactMap { UInt32($0) }
        }
        let uids = try ids("Uid"), gids = try ids("Gid")
        XCTAssertEqual(uids.count, 4)
        XCTAssertEqual(gids.count, 4)
        let expected = SecureExecution(atSecure: try Self.auxiliaryValue(Self.atSecure) != 0, uid: uids[0], euid: uids[1], gid: gids[0], egid: gids[1])
        let current = SecureExecution.current()
        XCTAssertEqual(current, expected)
        XCTAssertNil(current.refusal)
    }

    /// `AT_SECURE` in <elf.h>.
    static let atSecure: UInt = 23

    /// The value of entry `type` of this process's auxiliary vector, read from /proc/self/auxv
    /// (pairs of words: type, value; type 0 ends it).
    static func auxiliaryValue(_ type: UInt) throws -> UInt {
        let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: "/proc/self/auxv")))
        let size = MemoryLayout<UInt>.size
        let words = bytes.withUnsafeBytes { raw in
            stride(from: 0, to: raw.count - size + 1, by: size).map { raw.loadUnaligned(fromByteOffset: $0, as: UInt.self) }
        }
        for pair in stride(from: 0, to: words.count - 1, by: 2) where words[pair] == type { return words[pair + 1] }
        XCTFail("no entry \(type) in /proc/self/auxv")
        return 0
    }
}
