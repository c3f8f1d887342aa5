import AllThreadsTestSupport
import Foundation
import Glibc
import XCTest

/// `allthreads sandbox` on real commands: reading, writing, executing, binding and connecting,
/// each allowed and denied, with landrun's flag meanings; each run is a process of its own.
final class SandboxCLITests: XCTestCase {
    private var root = ""

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("allthreads-sandbox-cli-\(UUID().uuidString)").path
        for dir in [root, root + "/ro", root + "/rw"] { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false) }
        try Data("secret\n".utf8).write(to: URL(fileURLWithPath: root + "/ro/file"))
        XCTAssertTrue(
            FileManager.default.createFile(atPath: root + "/ro/tool", contents: Data("#!/bin/sh\necho ran\n".utf8), attributes: [.posixPermissions: 0o755]))
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: root) }

    private func sandbox(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> Finished {
        try runProduct("allthreads", ["sandbox", "--threads", "32"] + arguments, timeout: 60, file: file, line: line)
    }

    func testReadingIsAllowedOnlyWhereGranted() throws {
        let allowed = try sandbox(["--rox", "/usr", "--ro", root + "/ro", "--", "cat", root + "/ro/file"])
        XCTAssertEqual(allowed.status, 0, allowed.stderr)
        XCTAssertEqual(allowed.stdout, "secret\n")
        let denied = try sandbox(["--rox", "/usr", "--ro", root + "/rw", "--", "cat", root + "/ro/file"])
        XCTAssertEqual(denied.status, 1, denied.stdout)
        XCTAssertTrue(denied.stderr.contains("Permission denied"), denied.stderr)
    }

    func testWritingIsAllowedOnlyUnderRW() throws {
        let allowed = try sandbox(["--rox", "/usr", "--rw", root + "/rw", "--", "sh", "-c", "echo hi > \(root)/rw/new"])
        XCTAssertEqual(allowed.status, 0, allowed.stderr)
        XCTAssertEqual(try String(contentsOfFile: root + "/rw/new", encoding: .utf8), "hi\n")
        let denied = try sandbox(["--rox", "/usr", "--ro", root + "/ro", "--", "sh", "-c", "echo hi > \(root)/ro/new"])
        XCTAssertNotEqual(denied.status, 0)
        XCTAssertTrue(denied.stderr.contains("Permission denied"), denied.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/ro/new"))
    }

    func testExecutingNeedsRox() throws {
        let allowed = try sandbox(["--rox", "/usr", "--rox", root + "/ro", "--", "sh", "-c", root + "/ro/tool"])
        XCTAssertEqual(allowed.status, 0, allowed.stderr)
        XCTAssertEqual(allowed.stdout, "ran\n")
        let script = try sandbox(["--rox", "/usr", "--ro", root + "/ro", "--", "sh", "-c", root + "/ro/tool"])
        XCTAssertEqual(script.status, 126, script.stderr)
        let command = try sandbox(["--ro", "/usr", "--", "/usr/bin/true"])
        XCTAssertEqual(command.status, 126, command.stderr)
    }

    /// A port nobody uses now (bound to 0 and closed), and a listener for connections.
    private func listener() throws -> (fd: CInt, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        var length = socklen_t(16)
        let ok = withUnsafeMutablePointer(to: &address) { a in
            a.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, 16) == 0 && listen(fd, 4) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        XCTAssertTrue(ok)
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    /// Runs Debian's python3 (under /usr, so --rox /usr covers it and its library).
    private func python(_ code: String) throws -> [String] {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") else { throw XCTSkip("no /usr/bin/python3") }
        return ["--", "/usr/bin/python3", "-c", code]
    }

    func testBindingIsAllowedOnlyOnBindTCPPorts() throws {
        let (fd, port) = try listener()
        close(fd)
        let bind = "import socket; socket.socket().bind(('127.0.0.1', \(port)))"
        let code = try python(bind)
        let allowed = try sandbox(["--rox", "/usr", "--bind-tcp", "\(port)"] + code)
        XCTAssertEqual(allowed.status, 0, allowed.stderr)
        let denied = try sandbox(["--rox", "/usr", "--bind-tcp", "\(port == 65535 ? port - 1 : port + 1)"] + code)
        XCTAssertEqual(denied.status, 1)
        XCTAssertTrue(denied.stderr.contains("PermissionError"), denied.stderr)
    }

    func testConnectingIsAllowedOnlyOnConnectTCPPorts() throws {
        let (fd, port) = try listener()
        defer { close(fd) }
        let connect = "import socket; socket.create_connection(('127.0.0.1', \(port)), timeout=10)"
        let code = try python(connect)
        let allowed = try sandbox(["--rox", "/usr", "--connect-tcp", "\(port)"] + code)
        XCTAssertEqual(allowed.status, 0, allowed.stderr)
        let denied = try sandbox(["--rox", "/usr", "--connect-tcp", "443"] + code)
        XCTAssertEqual(denied.status, 1)
        XCTAssertTrue(denied.stderr.contains("PermissionError"), denied.stderr)
    }

    func testBadInputIsAUsageErrorAndRunsNothing() throws {
        for (arguments, fragment) in [
            (["--bind-tcp", "0"], "a TCP port is 1...65535"), (["--connect-tcp", "65536"], "a TCP port is 1...65535"),
            (["--connect-tcp", "http"], "is not a TCP port"), (["--ro", root + "/missing"], "cannot be opened"),
        ] {
            let result = try sandbox(["--rox", "/usr"] + arguments + ["--", "sh", "-c", "echo ran"])
            XCTAssertEqual(result.status, 2, "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(fragment), "\(arguments): \(result.stderr)")
            XCTAssertFalse(result.stdout.contains("ran"), "\(arguments) ran the command")
        }
        // A hostile name: its escape codes and newline reach the terminal escaped, never raw.
        let hostile = try sandbox(["--rox", "/usr", "--ro", root + "/\u{1b}[31mred\nFAKE LINE", "--", "sh", "-c", "echo ran"])
        XCTAssertEqual(hostile.status, 2, hostile.stderr)
        XCTAssertFalse(hostile.stderr.contains("\u{1b}") || hostile.stderr.contains("\nFAKE LINE"), hostile.stderr)
        XCTAssertTrue(hostile.stderr.contains("cannot be opened"), hostile.stderr)
        let ignored = try sandbox(["--rox", "/usr", "--ro", root + "/missing", "--ignore-missing", "--", "sh", "-c", "echo ran"])
        XCTAssertEqual(ignored.status, 0, ignored.stderr)
    }

    /// --user drops the credentials in the same stop: the command runs as nobody, in the domain;
    /// without read on /proc (the drop's proof reads it) the sandbox is refused and runs nothing.
    func testUserDropsCredentialsInTheSameStop() throws {
        let dropped = try sandbox(["--user", "nobody", "--rox", "/usr", "--ro", "/proc", "--", "sh", "-c", "id -u; id -G; cat /etc/hostname"])
        XCTAssertEqual(dropped.stdout, "65534\n65534\n", dropped.stderr)
        XCTAssertTrue(dropped.stderr.contains("Permission denied"), dropped.stderr)
        let refused = try sandbox(["--user", "nobody", "--rox", "/usr", "--", "sh", "-c", "echo ran"])
        XCTAssertEqual(refused.status, 2, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("grant read on /proc"), refused.stderr)
        XCTAssertFalse(refused.stdout.contains("ran"))
        let orphan = try sandbox(["--keep-caps", "cap_net_raw", "--rox", "/usr", "--", "sh", "-c", "echo ran"])
        XCTAssertEqual(orphan.status, 2, orphan.stderr)
        XCTAssertTrue(orphan.stderr.contains("need --user"), orphan.stderr)
    }

    /// --profile: the sandbox of the file's fields; a bad profile exits 2 naming the line and
    /// the field, and runs nothing.
    func testAProfileIsReadAndABadOneRunsNothing() throws {
        let profile = root + "/rw/server.profile"
        try Data("# the server\nrox /usr\nro \(root)/ro\nro /proc\nuser nobody\nseccomp default allow\n".utf8).write(to: URL(fileURLWithPath: profile))
        let allowed = try sandbox(["--profile", profile, "--", "sh", "-c", "id -u; cat \(root)/ro/file; cat /etc/hostname"])
        XCTAssertEqual(allowed.stdout, "65534\nsecret\n", allowed.stderr)
        XCTAssertTrue(allowed.stderr.contains("Permission denied"), allowed.stderr)
        try Data("rox /usr\nbind-tcp 8080\nbind-tcp 8080\n".utf8).write(to: URL(fileURLWithPath: profile))
        let refused = try sandbox(["--profile", profile, "--", "sh", "-c", "echo ran"])
        XCTAssertEqual(refused.status, 2, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("line 3: field 'bind-tcp': port 8080 is already granted on line 2"), refused.stderr)
        XCTAssertFalse(refused.stdout.contains("ran"))
        let mixed = try sandbox(["--profile", profile, "--rox", "/usr", "--", "sh", "-c", "echo ran"])
        XCTAssertEqual(mixed.status, 2, mixed.stderr)
        XCTAssertTrue(mixed.stderr.contains("--profile takes the whole sandbox"), mixed.stderr)
    }

    func testSummarySaysWhatIsEnforcedAndProven() throws {
        let result = try sandbox(["--rox", "/usr", "--ro", "/no/such/path", "--ignore-missing", "--bind-tcp", "8080"])
        XCTAssertEqual(result.status, 0, result.stderr)
        for fragment in ["file system enforced, network enforced, scopes not requested", "proof(s) passed on every thread", "missing, ignored: /no/such/path"] {
            XCTAssertTrue(result.stdout.contains(fragment), "\(fragment): \(result.stdout)")
        }
    }

    func testJSONSaysWhatIsEnforcedAndProven() throws {
        let result = try sandbox(["--rox", "/usr", "--connect-tcp", "443", "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let row = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let sandbox = try XCTUnwrap((row["change"] as? [String: Any])?["sandbox"] as? [String: Any], result.stdout)
        XCTAssertEqual(sandbox["file_system"] as? String, "enforced")
        XCTAssertEqual(sandbox["network"] as? String, "enforced")
        XCTAssertEqual(sandbox["scopes"] as? String, "not requested")
        // One domain for the process only where the kernel has TSYNC (Landlock ABI 8).
        XCTAssertEqual(sandbox["process_wide_domain"] as? Bool, (sandbox["abi"] as? Int ?? 0) >= 8)
        let proofs = try XCTUnwrap(sandbox["proofs"] as? [String])
        XCTAssertTrue(proofs.contains { $0.hasPrefix("connect(127.0.0.1:443)") }, "\(proofs)")
    }

    func testHelpNamesTheFlags() throws {
        let help = try runProduct("allthreads", ["sandbox", "--help"], timeout: 60)
        for flag in ["--ro", "--rox", "--rw", "--rwx", "--bind-tcp", "--connect-tcp", "--best-effort", "landrun"] {
            XCTAssertTrue(help.stdout.contains(flag), flag)
        }
    }
}
