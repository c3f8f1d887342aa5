import AllThreadsWorkload
import Foundation
import XCTest

@testable import AllThreads

/// Capability numbering and names, parsing of names and lists, and ``CapabilitySet`` as a set.
final class CapabilityTests: XCTestCase {
    // MARK: Helpers

    /// The message of the `invalidArgument` error that parsing `text` throws; fails and returns "" otherwise.
    func rejection(
        _ text: String, lastSupported: Capability? = nil, file: StaticString = #filePath, line: UInt = #line
    ) -> String {
        let result = Result { () throws(AllThreadsError) -> Capability in
            if let lastSupported {
                try Capability.parse(text, lastSupported: lastSupported)
            } else {
                try Capability(parsing: text)
            }
        }
        switch result {
        case .success(let capability):
            XCTFail("parsed \(text.debugDescription) as \(capability)", file: file, line: line)
        case .failure(let error) where error.code == .argumentRejected:
            return error.message ?? ""
        case .failure(let error):
            XCTFail("\(text.debugDescription): \(error)", file: file, line: line)
        }
        return ""
    }

    /// The message of the `invalidArgument` error that parsing `text` as a set throws.
    func setRejection(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        switch Result(catching: { () throws(AllThreadsError) -> CapabilitySet in try CapabilitySet(parsing: text) }) {
        case .success(let set):
            XCTFail("parsed \(text.debugDescription) as \(set)", file: file, line: line)
        case .failure(let error) where error.code == .argumentRejected:
            return error.message ?? ""
        case .failure(let error):
            XCTFail("\(text.debugDescription): \(error)", file: file, line: line)
        }
        return ""
    }

    /// The running kernel's highest capability, read here independently of the library.
    func kernelLastCapability() throws -> Int32 {
        let text = try String(contentsOfFile: "/proc/sys/kernel/cap_last_cap", encoding: .utf8)
        return try XCTUnwrap(Int32(text.trimmingCharacters(in: .newlines)), text)
    }

    // MARK: Numbering and names

    func testNamedConstantsFollowTheKernelsNumbering() {
        let expected: [(Capability, Int32, String)] = [
            (.chown, 0, "cap_chown"), (.dacOverride, 1, "cap_dac_override"),
            (.dacReadSearch, 2, "cap_dac_read_search"), (.fowner, 3, "cap_fowner"), (.fsetid, 4, "cap_fsetid"),
            (.kill, 5, "cap_kill"), (.setgid, 6, "cap_setgid"), (.setuid, 7, "cap_setuid"),
            (.setpcap, 8, "cap_setpcap"), (.linuxImmutable, 9, "cap_linux_immutable"),
            (.netBindService, 10, "cap_net_bind_service"), (.netBroadcast, 11, "cap_net_broadcast"),
            (.netAdmin, 12, "cap_net_admin"), (.netRaw, 13, "cap_net_raw"), (.ipcLock, 14, "cap_ipc_lock"),
            (.ipcOwner, 15, "cap_ipc_owner"), (.sysModule, 16, "cap_sys_module"), (.sysRawio, 17, "cap_sys_rawio"),
            (.sysChroot, 18, "cap_sys_chroot"), (.sysPtrace, 19, "cap_sys_ptrace"), (.sysPacct, 20, "cap_sys_pacct"),
            (.sysAdmin, 21, "cap_sys_admin"), (.sysBoot, 22, "cap_sys_boot"), (.sysNice, 23, "cap_sys_nice"),
            (.sysResource, 24, "cap_sys_resource"), (.sysTime, 25, "cap_sys_time"),
            (.sysTtyConfig, 26, "cap_sys_tty_config"), (.mknod, 27, "cap_mknod"), (.lease, 28, "cap_lease"),
            (.auditWrite, 29, "cap_audit_write"), (.auditControl, 30, "cap_audit_control"),
            (.setfcap, 31, "cap_setfcap"), (.macOverride, 32, "cap_mac_override"), (.macAdmin, 33, "cap_mac_admin"),
            (.syslog, 34, "cap_syslog"), (.wakeAlarm, 35, "cap_wake_alarm"), (.blockSuspend, 36, "cap_block_suspend"),
            (.auditRead, 37, "cap_audit_read"), (.perfmon, 38, "cap_perfmon"), (.bpf, 39, "cap_bpf"),
            (.checkpointRestore, 40, "cap_checkpoint_restore"),
        ]
        XCTAssertEqual(expected.count, 41)
        for (capability, number, name) in expected {
            XCTAssertEqual(capability.rawValue, number, name)
            XCTAssertEqual(capability.name, name)
            XCTAssertEqual(capability.description, name)
            XCTAssertEqual(Capability(rawValue: number), capability, name)
        }
        XCTAssertEqual(Set(expected.map(\.0)).count, 41)
        XCTAssertEqual(Capability.highestNamed, .checkpointRestore)
    }

    func testRawValueRangeAndUnnamedNames() throws {
        XCTAssertNil(Capability(rawValue: -1))
        XCTAssertNil(Capability(rawValue: 64))
        XCTAssertNil(Capability(rawValue: .min))
        XCTAssertNil(Capability(rawValue: .max))
        XCTAssertEqual(try XCTUnwrap(Capability(rawValue: 41)).name, "cap_41")
        XCTAssertEqual(try XCTUnwrap(Capability(rawValue: 63)).description, "cap_63")
        XCTAssertLessThan(Capability.chown, .setuid)
        XCTAssertEqual([Capability.bpf, .chown, .setuid].sorted(), [.chown, .setuid, .bpf])
    }

    // MARK: The running kernel

    func testLastSupportedIsTheKernels() throws {
        let last = try kernelLastCapability()
        XCTAssertEqual(Capability.lastSupported.rawValue, last)
        XCTAssertEqual(Capability.allSupported.map(\.rawValue), Array(0...last))
        XCTAssertEqual(CapabilitySet.allSupported.count, Int(last) + 1)
        XCTAssertEqual(Array(CapabilitySet.allSupported), Capability.allSupported)
    }

    func testCapabilitiesAboveTheKernelsLastAreRejected() throws {
        let last = Capability.lastSupported
        let above = String(last.rawValue + 1)
        for text in [above, "cap_" + above] {
            let message = rejection(text)
            XCTAssertTrue(message.contains(text), message)
            XCTAssertTrue(message.contains(last.name), message)
            XCTAssertTrue(message.contains("0...\(last.rawValue)"), message)
        }
        XCTAssertEqual(try Capability(parsing: String(last.rawValue)), last)
        XCTAssertEqual(try Capability(parsing: last.name), last)
    }

    func testNamedCapabilitiesAnOlderKernelLacksAreRejected() {
        // Simulated older kernels: one whose last is CAP_PERFMON, and Linux 5.7, whose last is CAP_AUDIT_READ.
        let message = rejection("cap_checkpoint_restore", lastSupported: .perfmon)
        XCTAssertEqual(
            message,
            "capability 'cap_checkpoint_restore' (40) is not supported by the running kernel "
                + "(its last is cap_perfmon, 38)")
        let other = rejection("BPF", lastSupported: .auditRead)
        XCTAssertEqual(
            other,
            "capability 'BPF' (cap_bpf, 39) is not supported by the running kernel (its last is cap_audit_read, 37)")
        XCTAssertEqual(try Capability.parse("perfmon", lastSupported: .perfmon), .perfmon)
        XCTAssertEqual(
            try CapabilitySet.parse("all", lastSupported: .auditRead), CapabilitySet(rawValue: (1 << 38) - 1))
        XCTAssertEqual(
            rejection("39", lastSupported: .auditRead),
            "capability 39 is out of range 0...37 (the running kernel's last is cap_audit_read)")
    }

    func testCapLastCapText() {
        XCTAssertEqual(Capability.lastCapability(fromProcText: Array("40\n".utf8)), .checkpointRestore)
        XCTAssertEqual(Capability.lastCapability(fromProcText: Array("63\n".utf8)), Capability(rawValue: 63))
        for text in ["", "\n", "40", "64\n", "-1\n", "4 0\n", "40\n\n", "99999999999999999999999\n", "0x28\n"] {
            XCTAssertNil(Capability.lastCapability(fromProcText: Array(text.utf8)), text.debugDescription)
        }
    }

    // MARK: Parsing

    func testNameFormsAndCaseVariants() throws {
        for text in ["cap_setuid", "setuid", "SETUID", "Cap_SetUID", "CAP_SETUID", "sEtUiD", "7", "007", "cap_7"] {
            XCTAssertEqual(try Capability(parsing: text), .setuid, text)
        }
        XCTAssertEqual(try Capability(parsing: "cap_net_bind_service"), .netBindService)
        XCTAssertEqual(try Capability(parsing: "NET_BIND_SERVICE"), .netBindService)
        XCTAssertEqual(try Capability(parsing: "0"), .chown)
        for capability in Capability.allSupported {
            XCTAssertEqual(try Capability(parsing: capability.name), capability)
            XCTAssertEqual(try Capability(parsing: capability.name.uppercased()), capability)
            XCTAssertEqual(try Capability(parsing: String(capability.rawValue)), capability)
        }
    }

    func testHostileTextIsRejectedWithAClearMessage() {
        let last = Capability.lastSupported
        // (text, what the message must contain)
        let cases: [(String, String)] = [
            ("cap_fly", "unknown capability 'cap_fly'"),
            ("cap_", "unknown capability 'cap_'"),
            ("cap_cap_chown", "unknown capability 'cap_cap_chown'"),
            ("chown_", "unknown capability 'chown_'"),
            ("cap-chown", "unknown capability 'cap-chown'"),
            ("🚀", "unknown capability '🚀'"),
            ("cap_🚀", "unknown capability 'cap_🚀'"),
            ("-", "unknown capability '-'"),
            ("+7", "unknown capability '+7'"),
            ("0x7", "unknown capability '0x7'"),
            ("\u{212A}ill", "unknown capability '\u{212A}ill'"),  // Kelvin sign: lowercases to "kill" in Unicode
            ("se\u{200B}tuid", "unknown capability 'se\\u{200B}tuid'"),
            (" ", "capability ' ' contains whitespace"),
            ("   ", "capability '   ' contains whitespace"),
            (" setuid", "capability ' setuid' contains whitespace"),
            ("setuid\n", "capability 'setuid\\n' contains whitespace"),
            ("set uid", "capability 'set uid' contains whitespace"),
            ("\t", "capability '\\t' contains whitespace"),
            ("\0", "capability '\\0' contains whitespace or a control character"),
            ("cap_chown\0", "capability 'cap_chown\\0' contains"),
            ("set\0uid", "capability 'set\\0uid' contains"),
            ("99", "capability 99 is out of range 0...\(last.rawValue) (the running kernel's last is \(last.name))"),
            ("64", "capability 64 is out of range"),
            ("-1", "capability -1 is out of range 0...\(last.rawValue)"),
            ("-0", "capability -0 is out of range"),
            ("99999999999999999999", "capability 99999999999999999999 is out of range"),
            ("cap_99999999999999999999", "capability 'cap_99999999999999999999' is out of range"),
        ]
        for (text, expected) in cases {
            let message = rejection(text)
            XCTAssertTrue(message.contains(expected), "\(text.debugDescription): \(message)")
            XCTAssertFalse(message.contains("\0"), "\(text.debugDescription): \(message)")
        }
        XCTAssertEqual(rejection(""), "empty capability name")
    }

    func testHugeTextIsClippedInTheMessage() {
        let digits = String(repeating: "9", count: 100_000)
        let message = rejection(digits)
        let clipped = String(repeating: "9", count: 64) + "…"
        XCTAssertTrue(message.hasPrefix("capability \(clipped) is out of range"), message)
        XCTAssertLessThan(message.count, 200)
        let letters = rejection(String(repeating: "x", count: 100_000))
        XCTAssertEqual(letters, "unknown capability '\(String(repeating: "x", count: 64))…'")
    }

    // MARK: CapabilitySet as a set

    func testMaskBits() {
        XCTAssertEqual(([.setuid, .setgid] as CapabilitySet).rawValue, 0xC0)
        XCTAssertEqual(([.chown] as CapabilitySet).rawValue, 1)
        XCTAssertEqual(([.checkpointRestore] as CapabilitySet).rawValue, 1 << 40)
        XCTAssertEqual(CapabilitySet(rawValue: 0x420), [.kill, .netBindService])
        XCTAssertEqual(CapabilitySet().rawValue, 0)
        XCTAssertEqual(CapabilitySet(through: .checkpointRestore).rawValue, 0x1ff_ffff_ffff)
        XCTAssertEqual(CapabilitySet(through: Capability(rawValue: 63)!).rawValue, .max)
        XCTAssertEqual(CapabilitySet(through: .chown).rawValue, 1)
        XCTAssertEqual(CapabilitySet(rawValue: .max).count, 64)
        XCTAssertEqual(CapabilitySet(rawValue: .max).map(\.rawValue), Array(0...63))
    }

    func testSetAlgebra() {
        let ids: CapabilitySet = [.setuid, .setgid]
        let network: CapabilitySet = [.netBindService, .netRaw, .setuid]
        XCTAssertEqual(ids.union(network), [.setgid, .setuid, .netBindService, .netRaw])
        XCTAssertEqual(ids.intersection(network), [.setuid])
        XCTAssertEqual(ids.subtracting(network), [.setgid])
        XCTAssertEqual(ids.symmetricDifference(network), [.setgid, .netBindService, .netRaw])
        XCTAssertTrue(ids.contains(.setuid))
        XCTAssertFalse(ids.contains(.chown))
        XCTAssertFalse(ids.contains(Capability(rawValue: 63)!))
        XCTAssertTrue(([.setuid] as CapabilitySet).isSubset(of: ids))
        XCTAssertFalse(ids.isSubset(of: [.setuid]))
        XCTAssertTrue(ids.isSuperset(of: [.setgid]))
        XCTAssertTrue(ids.isDisjoint(with: [.chown, .kill]))
        XCTAssertFalse(ids.isDisjoint(with: network))
        XCTAssertTrue(CapabilitySet().isEmpty)
        XCTAssertFalse(ids.isEmpty)
        XCTAssertEqual(ids.count, 2)

        var set = CapabilitySet()
        let first = set.insert(.kill)
        XCTAssertTrue(first.inserted)
        XCTAssertEqual(first.memberAfterInsert, .kill)
        let second = set.insert(.kill)
        XCTAssertFalse(second.inserted)
        XCTAssertEqual(second.memberAfterInsert, .kill)
        XCTAssertEqual(set.rawValue, 1 << 5)
        XCTAssertNil(set.update(with: .chown))
        XCTAssertEqual(set.update(with: .chown), .chown)
        XCTAssertEqual(set.remove(.kill), .kill)
        XCTAssertNil(set.remove(.kill))
        XCTAssertNil(set.remove(.setuid))
        XCTAssertEqual(set, [.chown])

        set.formUnion(ids)
        XCTAssertEqual(set, [.chown, .setgid, .setuid])
        set.subtract([.setgid])
        XCTAssertEqual(set, [.chown, .setuid])
        set.formIntersection(network)
        XCTAssertEqual(set, [.setuid])
        set.formSymmetricDifference(ids)
        XCTAssertEqual(set, [.setgid])
        XCTAssertEqual(CapabilitySet([.kill, .kill, .chown]), [.chown, .kill])
    }

    func testIterationIsAscending() {
        let set: CapabilitySet = [.checkpointRestore, .chown, .sysAdmin, .setuid, Capability(rawValue: 63)!]
        XCTAssertEqual(Array(set), [.chown, .setuid, .sysAdmin, .checkpointRestore, Capability(rawValue: 63)!])
        XCTAssertEqual(set.underestimatedCount, 5)
        XCTAssertEqual(Array(CapabilitySet()), [])
        XCTAssertEqual(Array(CapabilitySet(rawValue: 0xC0)), [.setgid, .setuid])
    }

    // MARK: CapabilitySet text

    func testParsingLists() throws {
        XCTAssertEqual(try CapabilitySet(parsing: "cap_chown, setuid"), [.chown, .setuid])
        XCTAssertEqual(try CapabilitySet(parsing: "cap_chown,setuid"), [.chown, .setuid])
        XCTAssertEqual(try CapabilitySet(parsing: "  SETGID ,  7  "), [.setgid, .setuid])
        XCTAssertEqual(try CapabilitySet(parsing: "setuid,setuid,cap_setuid,7"), [.setuid])
        XCTAssertEqual(try CapabilitySet(parsing: "all"), .allSupported)
        XCTAssertEqual(try CapabilitySet(parsing: " ALL "), .allSupported)
        XCTAssertEqual(try CapabilitySet(parsing: "none"), [])
        XCTAssertEqual(try CapabilitySet(parsing: "None"), [])
        XCTAssertEqual(try CapabilitySet(parsing: "kill").rawValue, 1 << 5)
    }

    func testHostileListsAreRejected() {
        let cases: [(String, String)] = [
            ("", "empty capability list ''"),
            ("   ", "empty capability list '   '"),
            (",", "empty capability list ','"),
            ("chown,", "empty item in the capability list 'chown,'"),
            ("chown,,kill", "empty item in the capability list 'chown,,kill'"),
            (",chown", "empty item in the capability list ',chown'"),
            ("all,chown", "'all' must stand alone in the capability list 'all,chown'"),
            ("chown, none", "'none' must stand alone in the capability list 'chown, none'"),
            ("chown,cap_fly", "unknown capability 'cap_fly'"),
            ("chown;kill", "unknown capability 'chown;kill'"),
            ("chown,\0", "capability '\\0' contains"),
            ("chown,\tkill", "capability '\\tkill' contains whitespace"),
            ("chown,99", "capability 99 is out of range"),
            ("chown,-1", "capability -1 is out of range"),
            ("ａｌｌ", "unknown capability 'ａｌｌ'"),
        ]
        for (text, expected) in cases {
            let message = setRejection(text)
            XCTAssertTrue(message.contains(expected), "\(text.debugDescription): \(message)")
        }
    }

    func testDescriptionRoundTrips() throws {
        XCTAssertEqual(CapabilitySet().description, "none")
        XCTAssertEqual(([.setuid, .chown] as CapabilitySet).description, "cap_chown,cap_setuid")
        XCTAssertEqual("\([.netBindService] as CapabilitySet)", "cap_net_bind_service")
        XCTAssertEqual(CapabilitySet(rawValue: 1 << 41 | 1).description, "cap_chown,cap_41")
        let supported = CapabilitySet.allSupported.rawValue
        var random = SplitMix64(seed: 7)
        for _ in 0..<200 {
            let set = CapabilitySet(rawValue: random.next() & supported)
            XCTAssertEqual(try CapabilitySet(parsing: set.description), set, set.description)
        }
        XCTAssertEqual(try CapabilitySet(parsing: CapabilitySet.allSupported.description), .allSupported)
        XCTAssertEqual(try CapabilitySet(parsing: CapabilitySet().description), [])
    }
}
