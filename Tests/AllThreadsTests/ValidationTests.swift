import AllThreads
import SystemPackage
import XCTest

/// Validation that needs no subprocess: it changes nothing.
final class ValidationTests: XCTestCase {
    private func message(_ body: () throws -> Void) -> String? {
        do { try body() } catch let error as AllThreadsError {
            if case .invalidArgument(let text) = error.kind { return text }
            return "\(error)"
        } catch { return "\(error)" }
        return nil
    }

    func testIDsAreValidatedAgainstTheKernelsRange() throws {
        XCTAssertEqual(try Account.userID(validating: 65534).rawValue, 65534)
        XCTAssertEqual(message { _ = try Account.userID(validating: -2) }, "user id -2 is negative")
        XCTAssertEqual(message { _ = try Account.groupID(validating: -1) }, "group id -1 means 'leave unchanged' to the kernel and cannot be set")
        XCTAssertEqual(
            message { _ = try Account.userID(validating: 4_294_967_295) }, "user id 4294967295 means 'leave unchanged' to the kernel and cannot be set")
        XCTAssertEqual(message { _ = try Account.userID(validating: 1 << 40) }, "user id 1099511627776 is above the kernel's largest id, 4294967294")
    }

    func testNamesResolveBeforeAnythingRuns() throws {
        XCTAssertEqual(try Account.userID(parsing: "nobody").rawValue, 65534)
        XCTAssertEqual(try Account.userID(parsing: "0"), UserID(rawValue: 0))
        XCTAssertEqual(try Account.groupID(parsing: "nogroup").rawValue, 65534)
        XCTAssertEqual(message { _ = try Account.userID(parsing: "no-such-user") }, "unknown user 'no-such-user'")
        XCTAssertEqual(message { _ = try Account.groupID(parsing: "") }, "unknown group ''")
        let nobody = try Account.lookUp("nobody")
        XCTAssertEqual(nobody.gid.rawValue, 65534)
        XCTAssertEqual(nobody.groups.map(\.rawValue), [65534])
    }

    func testPrivilegeDropResolvesAndRefusesUpFront() throws {
        let drop = try PrivilegeDrop(user: "nobody", groups: [], keepCapabilities: [.netBindService])
        XCTAssertEqual(drop.user.uid.rawValue, 65534)
        XCTAssertEqual(drop.group.rawValue, 65534)
        XCTAssertEqual(drop.groups, [])
        XCTAssertEqual(
            message { _ = try PrivilegeDrop(user: "nobody", keepCapabilities: [.setgid]) },
            "keeping cap_setgid would let any thread regain root, so the drop could not be proven")
        XCTAssertEqual(message { _ = try PrivilegeDrop(user: "0") }, "user 'root' is root: that drops nothing")
        XCTAssertEqual(
            message { _ = try PrivilegeDrop(user: "nobody", groups: [GroupID(rawValue: 4_294_967_295)]) },
            "group id 4294967295 means 'leave unchanged' to the kernel and cannot be set")
        XCTAssertEqual(try PrivilegeDrop(user: UserID(rawValue: 65534), groups: [], keepCapabilities: [.netBindService]), drop)
    }

    /// A seccomp filter needs no_new_privs or a kept cap_sys_admin, else the kernel would refuse
    /// it after every thread dropped: refused when the drop is created, either one accepted.
    /// (Applying a drop changed since is refused too: the drop-seccomp-needs-nnp scenario.)
    func testPrivilegeDropRefusesASeccompFilterItCouldNotLoad() throws {
        let filter = SeccompFilter(defaultAction: .allow, rules: [.init("ptrace", .errno(.notPermitted))])
        XCTAssertEqual(
            message { _ = try PrivilegeDrop(user: "nobody", seccomp: filter) },
            "a seccomp filter loaded after dropping root needs no_new_privs (or keeping cap_sys_admin); "
                + "without it the kernel would refuse the filter once every thread had dropped")
        XCTAssertNoThrow(try PrivilegeDrop(user: "nobody", noNewPrivileges: true, seccomp: filter))
        XCTAssertNoThrow(try PrivilegeDrop(user: "nobody", keepCapabilities: [.sysAdmin], allowingRootEquivalentCapabilities: [.sysAdmin], seccomp: filter))
    }

    /// Every root-equivalent capability is refused alone unless named apart, with its reason; the
    /// others are kept without it; cap_setuid and cap_setgid are refused even when named.
    func testRootEquivalentCapabilitiesNeedTheSeparateParameter() throws {
        let expected: CapabilitySet = [
            .chown, .dacOverride, .dacReadSearch, .fowner, .setgid, .setuid, .setpcap, .sysModule, .sysRawio, .sysPtrace,
            .sysAdmin, .sysBoot, .mknod, .setfcap, .bpf, .perfmon,
        ]
        XCTAssertEqual(CapabilitySet.rootEquivalent, expected)
        for capability in CapabilitySet.allSupported {
            let refusal = message { _ = try PrivilegeDrop(user: "nobody", keepCapabilities: [capability]) }
            guard CapabilitySet.rootEquivalent.contains(capability) else {
                XCTAssertNil(refusal, "\(capability)")
                XCTAssertNil(capability.rootEquivalence, "\(capability)")
                continue
            }
            let reason = try XCTUnwrap(capability.rootEquivalence, "\(capability) has no reason")
            XCTAssertFalse(reason.isEmpty)
            if capability == .setuid || capability == .setgid {
                XCTAssertNotNil(
                    message { _ = try PrivilegeDrop(user: "nobody", keepCapabilities: [capability], allowingRootEquivalentCapabilities: [capability]) })
                continue
            }
            XCTAssertEqual(
                refusal,
                "keeping \(capability) is root in disguise (\(capability): \(reason)); name them in allowingRootEquivalentCapabilities "
                    + "(--keep-root-equivalent-caps) to keep them anyway")
            let allowed = try PrivilegeDrop(user: "nobody", keepCapabilities: [capability, .netBindService], allowingRootEquivalentCapabilities: [capability])
            XCTAssertEqual(allowed.keepCapabilities, [capability, .netBindService])
            XCTAssertEqual(allowed.allowedRootEquivalentCapabilities, [capability])
        }
        XCTAssertNotNil(message { _ = try PrivilegeDrop(user: "nobody", keepCapabilities: [.chown, .fowner], allowingRootEquivalentCapabilities: [.chown]) })
    }

    func testOperationsRefuseBadValuesWithoutBroadcasting() throws {
        let before = EngineStatistics.current.broadcasts
        XCTAssertNotNil(message { try Broadcast.run(.setNice(-21)) })
        XCTAssertNotNil(message { try Broadcast.run(.setAffinity(cpus: [])) })
        XCTAssertNotNil(message { try Broadcast.run(.setGroups([])) })
        XCTAssertNotNil(message { try Broadcast.run(.setresuid(real: UserID(rawValue: .max), effective: nil, saved: nil)) })
        XCTAssertNotNil(message { try Broadcast.run(.setCapabilities(effective: [.sysAdmin], permitted: [], inheritable: [])) })
        XCTAssertEqual(EngineStatistics.current.broadcasts, before, "a refused call started a broadcast")
    }
}
