import AllThreads
import XCTest

/// The sandbox profile format, read without applying anything (Landlock cannot be undone).
final class SandboxProfileTests: XCTestCase {
    /// Every field reads into the sandbox the flags would make, comments, blank lines, spaces and
    /// a trailing `/` aside.
    func testAProfileIsTheSandboxOfItsFields() throws {
        let profile = """
            # the server's sandbox
              ro /proc
            rox\t/usr/

            rw /tmp
            connect-tcp 443 , 5432
            bind-tcp 8080
            scope signal, abstract-unix-socket
            best-effort
            user nobody
            keep-bounding-set
            seccomp default allow
            seccomp @mount errno EPERM
            """
        let expected = try Sandbox(
            paths: [.init("/proc", .read), .init("/usr", .readExecute), .init("/tmp", .readWrite)],
            ports: [.init(443, .connectTCP), .init(5432, .connectTCP), .init(8080, .bindTCP)],
            restrictingNetwork: .all, scopes: .all, compatibility: .bestEffort,
            seccomp: try SeccompFilter(parsing: "\n\n\n\n\n\n\n\n\n\n\ndefault allow\n@mount errno EPERM"),
            credentials: try PrivilegeDrop(user: "nobody", groups: [], dropBoundingSet: false, noNewPrivileges: true))
        XCTAssertEqual(try Sandbox(profile: profile), expected)
    }

    /// A profile of comments only is the default sandbox: every file-system right denied.
    func testAnEmptyProfileDeniesTheWholeFileSystem() throws {
        let sandbox = try Sandbox(profile: "# nothing granted\n\n")
        XCTAssertEqual(sandbox, try Sandbox(restrictingNetwork: .all))
        XCTAssertNil(sandbox.credentials)
    }

    /// Each bad line is named with its field; a hostile name comes back escaped.
    func testErrorsNameTheLineAndTheField() {
        for (text, expected) in [
            ("ro /usr\nrox /usr/bin\nfoo bar\n", "line 3: unknown field \"foo\""),
            ("ro /usr\n\u{1b}[2J /x\n", "line 2: unknown field \"\\u{1b}[2J\""),
            ("keep-caps cap_net_raw\n", "line 1: field 'keep-caps': needs a 'user' line"),
            ("user nobody\ngroups 0\ninit-groups\n", "line 3: field 'init-groups': give only one of groups, clear-groups and init-groups"),
            ("user nobody\nkeep-caps cap_nonsense\n", "line 2: field 'keep-caps': "),
            ("bind-tcp 80\nunrestricted-network\n", "line 1: field 'bind-tcp': the network is unrestricted (line 2)"),
            ("scope pipes\n", "line 1: field 'scope': \"pipes\" is not a scope"),
            ("ro /usr\nro\n", "line 2: field 'ro': needs a value"),
        ] {
            XCTAssertThrowsError(try Sandbox(profile: text), text) { error in
                guard case .invalidArgument(let message) = (error as? AllThreadsError)?.kind else { return XCTFail("\(text): \(error)") }
                XCTAssertTrue(message.hasPrefix(expected), "\(text): \(message)")
            }
        }
    }

    /// A file that cannot be read is named.
    func testAnUnreadableProfileIsNamed() {
        XCTAssertThrowsError(try Sandbox(contentsOfProfile: "/no/such/profile")) { error in
            guard case .invalidArgument(let message) = (error as? AllThreadsError)?.kind else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("\"/no/such/profile\""), message)
        }
    }
}
