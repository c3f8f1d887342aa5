import AllThreads
import AllThreadsCLISupport
import Foundation
import Glibc
import SystemPackage
import XCTest

/// The Prometheus text of `inspect --all --prometheus`: hostile names, the families, the atomic
/// write (node_exporter reads it back in AuditTests).
final class PrometheusTextfileTests: XCTestCase {
    /// Names a process can give itself (`comm`, 15 bytes): quotes, backslashes, newlines, escape
    /// codes, a forged sample, bytes that were not UTF-8.
    static let hostileNames = [
        #"a"b\c"#, "a\nb", "\\\"", "x\"} 1\nevil 1", "\u{1B}]0;pwned\u{07}", "\u{1B}[2J\r", "\u{FFFD}bad", "\\n", "",
    ]

    /// The label value between the quotes of `line` (`name{comm="…"} value`), unescaped as the
    /// exposition format says, and what follows the closing quote; `nil` when the line is not one
    /// sample with one label.
    private func parseLabel(_ line: String) -> (value: String, rest: String)? {
        guard let open = line.range(of: "{comm=\"") else { return nil }
        var value = "", escaping = false
        var index = open.upperBound
        while index < line.endIndex {
            let character = line[index]
            index = line.index(after: index)
            if escaping {
                switch character {
                case "\\": value += "\\"
                case "\"": value += "\""
                case "n": value += "\n"
                default: return nil
                }
                escaping = false
            } else if character == "\\" {
                escaping = true
            } else if character == "\"" {
                return (value, String(line[index...]))
            } else if character == "\n" {
                return nil
            } else {
                value.append(character)
            }
        }
        return nil
    }

    func testLabelValuesEscapeBackslashQuoteAndNewlineAndRoundTrip() throws {
        XCTAssertEqual(PrometheusTextfile.labelValue(#"a"b\c"#), #"a\"b\\c"#)
        XCTAssertEqual(PrometheusTextfile.labelValue("a\nb"), #"a\nb"#)
        XCTAssertEqual(PrometheusTextfile.labelValue("\\n"), #"\\n"#)
        XCTAssertEqual(PrometheusTextfile.labelValue("\u{1B}[2J\r"), "\u{1B}[2J\r")
        for name in Self.hostileNames {
            let line = "allthreads_command_processes_divergent{comm=\"\(PrometheusTextfile.labelValue(name))\"} 1"
            XCTAssertFalse(line.contains("\n"), name.debugDescription)
            let parsed = try XCTUnwrap(parseLabel(line), line.debugDescription)
            XCTAssertEqual(parsed.value, name, line.debugDescription)
            XCTAssertEqual(parsed.rest, "} 1", line.debugDescription)
        }
    }

    func testTextHasEveryFamilyAndCountsUnreadableProcessesByName() throws {
        let error = ProcfsError(path: "/proc/4/task/4/status", kind: .unreadable(.permissionDenied))
        let hostile = "x\"} 1\nevil 1"
        let audit = HostAudit(
            checkedProcesses: 7, vanishedProcesses: 2, divergent: [],
            unreadable: [
                .init(pid: 4, name: hostile, error: error), .init(pid: 5, name: nil, error: error), .init(pid: 6, name: hostile, error: error),
                .init(pid: 8, name: "sshd", error: error),
            ])
        XCTAssertEqual(
            PrometheusTextfile.text(audit),
            #"""
            # HELP allthreads_processes_checked Processes whose threads were read and compared.
            # TYPE allthreads_processes_checked gauge
            allthreads_processes_checked 7
            # HELP allthreads_processes_vanished Processes that exited while they were read (left out).
            # TYPE allthreads_processes_vanished gauge
            allthreads_processes_vanished 2
            # HELP allthreads_processes_divergent Processes in which some thread's credentials, capabilities, no_new_privs or seccomp mode differ from those most threads of their process have.
            # TYPE allthreads_processes_divergent gauge
            allthreads_processes_divergent 0
            # HELP allthreads_threads_divergent Threads whose credentials, capabilities, no_new_privs or seccomp mode differ from those most threads of their process have.
            # TYPE allthreads_threads_divergent gauge
            allthreads_threads_divergent 0
            # HELP allthreads_processes_unreadable Processes that could not be read: nothing is said to agree for them.
            # TYPE allthreads_processes_unreadable gauge
            allthreads_processes_unreadable 4
            # HELP allthreads_command_processes_divergent allthreads_processes_divergent by the process's comm.
            # TYPE allthreads_command_processes_divergent gauge
            # HELP allthreads_command_threads_divergent allthreads_threads_divergent by the process's comm.
            # TYPE allthreads_command_threads_divergent gauge
            # HELP allthreads_command_processes_unreadable allthreads_processes_unreadable by the process's comm (empty when it could not be read either).
            # TYPE allthreads_command_processes_unreadable gauge
            allthreads_command_processes_unreadable{comm=""} 1
            allthreads_command_processes_unreadable{comm="sshd"} 1
            allthreads_command_processes_unreadable{comm="x\"} 1\nevil 1"} 2

            """#)
    }

    func testWriteReplacesTheFileAtomicallyAndLeavesNothingElse() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("prometheus-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("allthreads.prom")
        try Data("old\n".utf8).write(to: file)
        // A hardened umask must not hide the file from node_exporter's user.
        let umask = Glibc.umask(0o077)
        defer { Glibc.umask(umask) }
        try PrometheusTextfile.write("new 1\n", to: FilePath(file.path))
        XCTAssertEqual(try String(contentsOf: file, encoding: .utf8), "new 1\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["allthreads.prom"])
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int, 0o644)

        let missing = FilePath(directory.appendingPathComponent("gone/allthreads.prom").path)
        let result = Result { () throws(Errno) in try PrometheusTextfile.write("x 1\n", to: missing) }
        guard case .failure(let errno) = result else { return XCTFail("wrote into a directory that does not exist") }
        XCTAssertEqual(errno, .noSuchFileOrDirectory)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["allthreads.prom"])
    }
}
