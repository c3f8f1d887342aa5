import AllThreads
import AllThreadsCLISupport
import AllThreadsTestSupport
import Foundation
import XCTest

/// The `allthreads` command, run as a subprocess the way people and scripts run it.
///
/// Each change command runs with 64 extra threads of mixed kinds, `--verify --json`; the JSON's
/// per-thread table is what /proc showed at verification time, so every thread in it must hold
/// the new value. Where it helps, `-- cat /proc/self/status` shows the exec'd process's state.
final class CLITests: XCTestCase {
    // MARK: The JSON result

    /// `ids` in the JSON: real, effective, saved, filesystem.
    struct IDRow: Decodable, Equatable {
        var real, effective, saved, filesystem: UInt32
    }

    /// The five capability sets, as names.
    struct CapabilityRows: Decodable {
        var inheritable, permitted, effective, bounding, ambient: [String]
    }

    /// One thread of the per-thread table.
    struct ThreadRow: Decodable {
        var tid: Int32
        var name: String
        var runsCode: Bool
        var differs: Bool
        var uids: IDRow
        var gids: IDRow
        var groups: [UInt32]
        var capabilities: CapabilityRows
        var noNewPrivs: Bool
        var seccomp: String
        var timerSlackNs: UInt64?
    }

    /// A differing thread.
    struct Difference: Decodable {
        var tid: Int32
        var name: String
        var fields: [Field]

        struct Field: Decodable {
            var field, value, expected: String
        }
    }

    /// `verification`, and the whole output of `inspect --json`.
    struct Comparison: Decodable {
        var pid: Int32
        var agree: Bool
        var referenceTid: Int32?
        var threadCount: Int
        var checkedThreads: Int
        var differing: [Difference]
        var threads: [ThreadRow]
    }

    /// One broadcast's report.
    struct Report: Decodable {
        var result: Int
        var threads: Int
        var rounds: Int
        var elapsedNs: Int64
    }

    /// `change`.
    struct Change: Decodable {
        var change: String
        var ok: Bool
        var error: String?
        var broadcasts: [Report]
        var engineBroadcasts: Int
        var rounds: Int
        var elapsedNs: Int64
    }

    /// The JSON line of a change command.
    struct Output: Decodable {
        var command: String
        var ok: Bool
        var threadsStarted: Int
        var change: Change
        var verify: Bool
        var verification: Comparison?
    }

    static let threads = 64

    /// Runs `allthreads` with `arguments`.
    private func allthreads(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> Finished {
        try runProduct("allthreads", arguments, timeout: 60, file: file, line: line)
    }

    private func decode<T: Decodable>(_ type: T.Type, _ text: Substring) throws -> T {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(type, from: Data(text.utf8))
    }

    /// Runs a change command with 64 threads, `--verify --json` and `exec` after `--`; checks
    /// that it succeeded, that the table has at least 65 distinct threads that all agree, and
    /// that `check` holds for every thread that runs code. Returns the output after the JSON line.
    @discardableResult
    private func change(
        _ arguments: [String], exec: [String] = [], file: StaticString = #filePath, line: UInt = #line,
        check: (ThreadRow) -> Bool
    ) throws -> String {
        let all = arguments + ["--threads", "\(Self.threads)", "--verify", "--json"] + (exec.isEmpty ? [] : ["--"] + exec)
        let result = try allthreads(all, file: file, line: line)
        let context = "allthreads \(all.joined(separator: " ")): \(result.stderr)"
        XCTAssertEqual(result.status, 0, context, file: file, line: line)
        XCTAssertEqual(result.stderr, "", context, file: file, line: line)
        let lines = result.stdout.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
        let output = try decode(Output.self, try XCTUnwrap(lines.first, context, file: file, line: line))
        XCTAssertTrue(output.ok, context, file: file, line: line)
        XCTAssertTrue(output.verify, context, file: file, line: line)
        XCTAssertEqual(output.threadsStarted, Self.threads, context, file: file, line: line)
        XCTAssertNil(output.change.error, context, file: file, line: line)
        XCTAssertGreaterThan(output.change.elapsedNs, 0, context, file: file, line: line)
        for report in output.change.broadcasts {
            XCTAssertGreaterThanOrEqual(report.threads, Self.threads + 1, context, file: file, line: line)
            XCTAssertGreaterThanOrEqual(report.rounds, 1, context, file: file, line: line)
        }
        let verification = try XCTUnwrap(output.verification, context, file: file, line: line)
        XCTAssertTrue(verification.agree, "\(context) \(verification.differing)", file: file, line: line)
        XCTAssertTrue(verification.differing.isEmpty, context, file: file, line: line)
        XCTAssertEqual(verification.referenceTid, verification.pid, "the main thread ran the change", file: file, line: line)
        let running = verification.threads.filter(\.runsCode)
        XCTAssertGreaterThanOrEqual(verification.threadCount, Self.threads + 1, context, file: file, line: line)
        XCTAssertGreaterThanOrEqual(running.count, Self.threads + 1, context, file: file, line: line)
        XCTAssertEqual(verification.checkedThreads, running.count, context, file: file, line: line)
        XCTAssertEqual(Set(verification.threads.map(\.tid)).count, verification.threads.count, "tids repeat", file: file, line: line)
        XCTAssertTrue(verification.threads.contains { $0.tid == verification.pid }, "no main thread", file: file, line: line)
        let wrong = running.filter { !check($0) || $0.differs }
        XCTAssertTrue(wrong.isEmpty, "\(context): \(wrong.count) threads lack the change, e.g. \(wrong.prefix(3))", file: file, line: line)
        return lines.count > 1 ? String(lines[1]) : ""
    }

    /// The value of `key:` in /proc status text, tabs turned into spaces and trimmed.
    private func field(_ key: String, in status: String) -> String? {
        status.split(separator: "\n").first { $0.hasPrefix(key + ":") }
            .map { $0.dropFirst(key.count + 1).replacingOccurrences(of: "\t", with: " ").trimmingCharacters(in: .whitespaces) }
    }

    private func all(_ ids: IDRow, _ value: UInt32) -> Bool {
        ids == IDRow(real: value, effective: value, saved: value, filesystem: value)
    }

    // MARK: Credentials

    func testSetuidChangesEveryThreadAndTheExecdCommand() throws {
        let status = try change(["setuid", "1000"], exec: ["cat", "/proc/self/status"]) { self.all($0.uids, 1000) }
        XCTAssertEqual(field("Uid", in: status), "1000 1000 1000 1000", status)
    }

    func testSetgidTakesAGroupName() throws {
        let status = try change(["setgid", "nogroup"], exec: ["cat", "/proc/self/status"]) { self.all($0.gids, 65534) && self.all($0.uids, 0) }
        XCTAssertEqual(field("Gid", in: status), "65534 65534 65534 65534", status)
    }

    func testSetresuidSetsEachID() throws {
        try change(["setresuid", "1001", "1002", "1003"]) {
            $0.uids == IDRow(real: 1001, effective: 1002, saved: 1003, filesystem: 1002)
        }
    }

    func testSetresgidSetsEachID() throws {
        try change(["setresgid", "1001", "nogroup", "1003"]) {
            $0.gids == IDRow(real: 1001, effective: 65534, saved: 1003, filesystem: 65534)
        }
    }

    func testSetgroupsSetsAndClearsSupplementaryGroups() throws {
        let status = try change(["setgroups", "2000,nogroup,1000"], exec: ["cat", "/proc/self/status"]) { $0.groups == [1000, 2000, 65534] }
        XCTAssertEqual(field("Groups", in: status), "1000 2000 65534", status)
        try change(["setgroups", ""]) { $0.groups.isEmpty }
    }

    // MARK: prctl

    func testNoNewPrivsReachesEveryThreadAndTheExecdCommand() throws {
        let status = try change(["prctl", "no-new-privs"], exec: ["cat", "/proc/self/status"]) { $0.noNewPrivs }
        XCTAssertEqual(field("NoNewPrivs", in: status), "1", status)
    }

    func testKeepcapsIsProbedOnEveryThread() throws {
        try change(["prctl", "keepcaps", "on"]) { _ in true }
        try change(["prctl", "keepcaps", "off"]) { _ in true }
    }

    func testCapbsetDropRemovesFromEveryBoundingSet() throws {
        let status = try change(["prctl", "capbset-drop", "cap_sys_module", "SYS_BOOT"], exec: ["cat", "/proc/self/status"]) {
            let bounding = $0.capabilities.bounding
            return !bounding.contains("cap_sys_module") && !bounding.contains("cap_sys_boot") && bounding.contains("cap_chown")
        }
        let mask = try XCTUnwrap(UInt64(try XCTUnwrap(field("CapBnd", in: status)), radix: 16))
        XCTAssertEqual(mask & (1 << 16 | 1 << 22), 0, status)
    }

    func testTimerslackReachesEveryThread() throws {
        try change(["prctl", "timerslack", "123456"]) { $0.timerSlackNs == 123456 }
    }

    // MARK: Capabilities and seccomp

    func testCapsSetSetsTheThreeSets() throws {
        try change(["caps", "set", "--permitted", "cap_chown,net_raw,7", "--effective", "chown"]) {
            $0.capabilities.permitted == ["cap_chown", "cap_setuid", "cap_net_raw"] && $0.capabilities.effective == ["cap_chown"]
                && $0.capabilities.inheritable.isEmpty
        }
    }

    func testCapsDropRemovesFromEverySet() throws {
        try change(["caps", "drop", "net_raw", "cap_sys_admin"]) {
            let sets = $0.capabilities
            return [sets.permitted, sets.effective, sets.inheritable, sets.ambient].allSatisfy {
                !$0.contains("cap_net_raw") && !$0.contains("cap_sys_admin")
            } && sets.permitted.contains("cap_chown") && sets.bounding.contains("cap_net_raw")
        }
    }

    func testSeccompFileLoadsOnEveryThread() throws {
        let file = try temporaryFile("# deny getppid\ndefault allow\ngetppid errno EPERM\nptrace errno EPERM\n")
        let status = try change(["seccomp", file.path], exec: ["cat", "/proc/self/status"]) { $0.seccomp == "filter" }
        XCTAssertEqual(field("Seccomp", in: status), "2", status)
    }

    /// A filter file with groups: every thread is filtered, and the command, which inherits
    /// the filter, gets EPERM from umount2 (a member of @mount; EFAULT without the filter) on
    /// every one of its threads (the command is allthreads itself, broadcasting umount2).
    func testSeccompFileWithGroups() throws {
        let file = try temporaryFile("default allow\n@mount errno EPERM\n@clock errno EPERM\n")
        let program = productsDirectory().appendingPathComponent("allthreads").path
        let probe = #""$0" syscall umount2 0 0 --threads 8 2>&1; "$0" syscall clock_settime 0 0 2>&1; true"#
        let output = try change(["seccomp", file.path], exec: ["sh", "-c", probe, program]) { $0.seccomp == "filter" }
        XCTAssertEqual(
            output,
            """
            allthreads: umount2(0, 0) failed: the call failed on the calling thread (Operation not permitted); no thread changed
            allthreads: clock_settime(0, 0) failed: the call failed on the calling thread (Operation not permitted); no thread changed

            """)
    }

    // MARK: drop

    /// The issue's example, literally: nobody, no supplementary groups, no_new_privs.
    func testDropToNobodyRunsTheCommandWithoutGroupsAndWithNoNewPrivs() throws {
        let id = try allthreads(["drop", "--user", "nobody", "--no-new-privs", "--", "id", "-u"])
        XCTAssertEqual(id.status, 0, id.stderr)
        XCTAssertEqual(id.stdout, "65534\n")
        XCTAssertEqual(id.stderr, "")
        let shell = try allthreads([
            "drop", "--user", "nobody", "--no-new-privs", "--", "sh", "-c", #"id -u; grep -E "^(Groups|NoNewPrivs)" /proc/self/status"#,
        ])
        XCTAssertEqual(shell.status, 0, shell.stderr)
        let lines = shell.stdout.split(separator: "\n").map { $0.replacingOccurrences(of: "\t", with: " ").trimmingCharacters(in: .whitespaces) }
        XCTAssertEqual(lines, ["65534", "Groups:", "NoNewPrivs: 1"], shell.stdout)
    }

    func testDropOnEveryThreadWithGroupsCapabilitiesAndSeccomp() throws {
        let filter = try temporaryFile("default allow\nptrace errno EPERM\n")
        let status = try change(
            ["drop", "--user", "nobody", "--init-groups", "--keep-caps", "net_bind_service", "--no-new-privs", "--seccomp", filter.path],
            exec: ["cat", "/proc/self/status"]
        ) {
            self.all($0.uids, 65534) && self.all($0.gids, 65534) && $0.groups == [65534] && $0.noNewPrivs && $0.seccomp == "filter"
                && $0.capabilities.effective == ["cap_net_bind_service"] && $0.capabilities.bounding == ["cap_net_bind_service"]
        }
        XCTAssertEqual(field("Uid", in: status), "65534 65534 65534 65534", status)
        XCTAssertEqual(field("Groups", in: status), "65534", status)
        XCTAssertEqual(field("CapAmb", in: status), "0000000000000400", status)
        XCTAssertEqual(field("Seccomp", in: status), "2", status)
    }

    // MARK: syscall and exec

    func testRawSyscallWithNamesNumbersAndNegativeArguments() throws {
        try change(["syscall", "setresuid", "-1", "4242", "-1"]) { $0.uids == IDRow(real: 0, effective: 4242, saved: 0, filesystem: 4242) }
        try change(["syscall", "SYS_prctl", "29", "0x309"]) { $0.timerSlackNs == 777 }
    }

    func testTheExecdCommandKeepsItsExitStatus() throws {
        let seven = try allthreads(["setgroups", "1000", "--", "sh", "-c", "exit 7"])
        XCTAssertEqual(seven.status, 7, seven.stderr)
        XCTAssertEqual(seven.stdout, "")
        // Found and executable for root before the change, not for nobody after it: 126.
        let script = try temporaryFile("#!/bin/sh\necho ran\n", mode: 0o700)
        let denied = try allthreads(["drop", "--user", "nobody", "--", script.path])
        XCTAssertEqual(denied.status, 126, denied.stderr)
        XCTAssertEqual(denied.stdout, "")
        XCTAssertEqual(denied.stderr.split(separator: "\n").count, 1, denied.stderr)
        XCTAssertTrue(denied.stderr.contains("cannot run '\(script.path)' after the change"), denied.stderr)
    }

    /// A change the kernel refuses: exit 1, the reason on stderr in one line, `ok: false` in the JSON.
    func testAFailedChangeExitsOneWithTheReason() throws {
        // As uid 1000 without capabilities, the exec'd allthreads cannot setuid(0).
        let inner = try copyOfAllthreads(mode: 0o755).path
        let result = try allthreads(["setresuid", "1000", "1000", "1000", "--", inner, "setuid", "0", "--threads", "64", "--json"])
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssertEqual(result.stderr, "allthreads: setuid(0) failed: the call failed on the calling thread (Operation not permitted); no thread changed\n")
        let output = try decode(Output.self, result.stdout.split(separator: "\n").first ?? "")
        XCTAssertFalse(output.ok)
        XCTAssertFalse(output.change.ok)
        XCTAssertEqual(output.change.error, "the call failed on the calling thread (Operation not permitted); no thread changed")
        XCTAssertNil(output.verification)
    }

    // MARK: inspect

    func testInspectMarksTheDivergentThreadAndExitsOne() throws {
        let helper = try RunningProduct("allthreads-scenarios", ["divergent-thread", "--threads", "10"])
        defer { helper.stop() }
        let ready = try XCTUnwrap(helper.firstLine(), "the helper did not start").split(separator: " ")
        XCTAssertEqual(ready.first, "ready")
        let pid = String(ready[1]), tid = try XCTUnwrap(Int32(ready[2]))

        let text = try allthreads(["inspect", "--pid", pid])
        XCTAssertEqual(text.status, 1, text.stderr)
        let marked = text.stdout.split(separator: "\n").filter { $0.hasPrefix("*") }
        XCTAssertEqual(marked.count, 1, text.stdout)
        XCTAssertTrue(marked.first?.contains(" \(tid) ") == true && marked.first?.contains("1000/1000/1000/1000") == true, text.stdout)
        XCTAssertTrue(text.stderr.hasPrefix("allthreads: 1 of "), text.stderr)
        XCTAssertTrue(text.stderr.contains("tid \(tid) (divergent): uid 1000/1000/1000/1000, expected 0/0/0/0"), text.stderr)
        XCTAssertEqual(text.stderr.split(separator: "\n").count, 1, text.stderr)

        let json = try allthreads(["inspect", "--pid", pid, "--json"])
        XCTAssertEqual(json.status, 1, json.stderr)
        let comparison = try decode(Comparison.self, json.stdout.split(separator: "\n").first ?? "")
        XCTAssertFalse(comparison.agree)
        XCTAssertEqual(comparison.pid, Int32(pid))
        XCTAssertGreaterThanOrEqual(comparison.threadCount, 12)
        XCTAssertEqual(comparison.differing.map(\.tid), [tid])
        XCTAssertEqual(comparison.differing.first?.name, "divergent")
        XCTAssertTrue(comparison.differing.first?.fields.contains { $0.field == "uid" && $0.value == "1000/1000/1000/1000" } == true)
        XCTAssertEqual(comparison.threads.filter(\.differs).map(\.tid), [tid])
        let odd = try XCTUnwrap(comparison.threads.first { $0.tid == tid })
        XCTAssertTrue(all(odd.uids, 1000))
        XCTAssertTrue(comparison.threads.filter { $0.tid != tid }.allSatisfy { all($0.uids, 0) })
    }

    func testInspectOfAUniformProcessExitsZero() throws {
        let helper = try RunningProduct("allthreads-scenarios", ["divergent-thread", "--threads", "10", "--diverge", "0"])
        defer { helper.stop() }
        let ready = try XCTUnwrap(helper.firstLine(), "the helper did not start").split(separator: " ")
        let pid = String(ready[1])
        let text = try allthreads(["inspect", "--pid", pid])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertFalse(text.stdout.split(separator: "\n").contains { $0.hasPrefix("*") }, text.stdout)
        XCTAssertTrue(text.stdout.contains("pid \(pid): "), text.stdout)
        let json = try allthreads(["inspect", "--pid", pid, "--json"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let comparison = try decode(Comparison.self, json.stdout.split(separator: "\n").first ?? "")
        XCTAssertTrue(comparison.agree)
        XCTAssertGreaterThanOrEqual(comparison.threadCount, 11)
        XCTAssertTrue(comparison.differing.isEmpty)
        XCTAssertEqual(try allthreads(["inspect"]).status, 0)
    }

    // MARK: Bad arguments

    /// Every kind of bad argument: exit 2, one line on stderr, nothing on stdout — neither the
    /// JSON nor the output of `cat`, which would run after a change.
    func testBadArgumentsExitTwoAndChangeNothing() throws {
        let notExecutable = try temporaryFile("not a program\n", mode: 0o644)
        let badFilter = try temporaryFile("default allow\nptrace deny\n")
        let goodFilter = try temporaryFile("default allow\nptrace errno EPERM\n")
        let cases: [([String], String)] = [
            (["setuid", "no-such-user"], "unknown user 'no-such-user'"),
            (["setuid", "4294967295"], "means 'leave unchanged'"),
            (["setuid"], "Missing expected argument '<uid>'"),
            (["setgid", "no-such-group"], "unknown group 'no-such-group'"),
            (["setresuid", "1", "2"], "Missing expected argument '<saved>'"),
            (["setresgid", "1", "2", "no-such-group"], "unknown group 'no-such-group'"),
            (["setgroups", "1000,,2000"], "empty item in the group list"),
            (["prctl", "keepcaps", "maybe"], "'maybe' is invalid"),
            (["prctl", "capbset-drop", "cap_nonsense"], "unknown capability 'cap_nonsense'"),
            (["prctl", "timerslack", "0"], "timer slack 0 ns"),
            (["caps", "set", "--permitted", "chown", "--effective", "setuid"], "not in the permitted set"),
            (["caps", "drop", "all,chown"], "must stand alone"),
            (["seccomp", "/no/such/filter"], "cannot read the seccomp filter '/no/such/filter'"),
            (["seccomp", badFilter.path], "line 2: unknown action 'deny'"),
            (["drop", "--user", "root"], "is root: that drops nothing"),
            (["drop", "--user", "nobody", "--keep-caps", "setuid"], "would let any thread regain root"),
            (["drop", "--user", "nobody", "--groups", "1", "--init-groups"], "only one of --groups"),
            (["drop", "--user", "nobody", "--seccomp", badFilter.path, "--no-new-privs"], "unknown action 'deny'"),
            (["drop", "--user", "nobody", "--seccomp", goodFilter.path], "needs no_new_privs"),
            (["syscall", "no_such_call"], "unknown system call 'no_such_call'"),
            (["syscall", "setresuid", "1", "2", "x"], "'x' is not an integer"),
            (["syscall", "getpid", "1", "2", "3", "4", "5", "6", "7"], "at most 6 arguments"),
            (["setuid", "1000", "--threads", "-1"], "--threads -1"),
            (["setuid", "1000", "--timeout", "0"], "timeout 0.0 s"),
            (["setuid", "1000", "--verfy"], "Did you mean '--verify'"),
        ]
        let exec = ["--", "cat", "/proc/self/status"]
        for (arguments, message) in cases {
            try expectUsageError(arguments + ["--verify", "--json"] + exec, message)
        }
        try expectUsageError(["setuid", "1000", "--json", "--", "no-such-command-anywhere"], "'no-such-command-anywhere' not found in PATH")
        try expectUsageError(["setuid", "1000", "--json", "--", notExecutable.path], "is not executable")
        try expectUsageError(["setuid", "1000", "--json", "--"], "no command given after '--'")
        try expectUsageError(["prctl", "bogus", "--", "cat", "/proc/self/status"], "Unexpected argument 'bogus'")
        try expectUsageError(["nonsense", "--", "cat", "/proc/self/status"], "Unexpected argument 'nonsense'")
        try expectUsageError(["inspect", "--pid", "0"], "a process id is a positive number")
        try expectUsageError(["inspect", "--pid", "2147483647"], "no process with pid 2147483647")
        try expectUsageError(["inspect", "--", "cat"], "only the change commands run a command")
    }

    private func expectUsageError(_ arguments: [String], _ message: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try allthreads(arguments, file: file, line: line)
        let context = "allthreads \(arguments.joined(separator: " ")): \(result.stderr)"
        XCTAssertEqual(result.status, 2, context, file: file, line: line)
        XCTAssertEqual(result.stdout, "", context, file: file, line: line)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, context, file: file, line: line)
        XCTAssertTrue(result.stderr.hasPrefix("allthreads: "), context, file: file, line: line)
        XCTAssertTrue(result.stderr.contains(message), "expected '\(message)' in: \(context)", file: file, line: line)
    }

    // MARK: Standard error that cannot be written

    /// Runs `program arguments` from `sh` with standard error redirected by `redirection`
    /// (`2>&-`, `2>/dev/full`), or for `"broken pipe"` onto a pipe whose reader is closed.
    private func withFailingStandardError(_ redirection: String, _ program: String, _ arguments: [String]) throws -> Finished {
        if redirection == "broken pipe" {
            let script = """
                import os, subprocess, sys
                reader, writer = os.pipe()
                os.close(reader)
                result = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=writer)
                sys.stdout.write(result.stdout.decode())
                sys.exit(result.returncode if result.returncode >= 0 else 128 - result.returncode)
                """
            return try runExecutable(URL(fileURLWithPath: "/usr/bin/python3"), ["-c", script, program] + arguments, timeout: 60)
        }
        return try runExecutable(URL(fileURLWithPath: "/bin/sh"), ["-c", "exec \"$@\" \(redirection)", "sh", program] + arguments, timeout: 60)
    }

    static let failingStandardErrors = ["2>&-", "2>/dev/full", "broken pipe"]

    /// A message that cannot be written to standard error never stops the command (it trapped
    /// in `FileHandle.write`: SIGILL, exit 132): a usage error still exits 2, and after
    /// `drop --verify`, whose proof goes to standard error, the command still runs as nobody
    /// with its own output and exit status.
    func testAFailedWriteToStandardErrorNeverCrashes() throws {
        let program = productsDirectory().appendingPathComponent("allthreads").path
        for redirection in Self.failingStandardErrors {
            let usage = try withFailingStandardError(redirection, program, ["setuid", "no-such-user", "--", "id"])
            XCTAssertEqual(usage.status, 2, "\(redirection): \(usage.stdout)")
            XCTAssertEqual(usage.stdout, "", redirection)
            let drop = try withFailingStandardError(
                redirection, program, ["drop", "--user", "nobody", "--verify", "--threads", "8", "--", "/bin/sh", "-c", "echo ran as $(id -u); exit 7"])
            XCTAssertEqual(drop.status, 7, "\(redirection): \(drop.stdout)")
            XCTAssertEqual(drop.stdout, "ran as 65534\n", redirection)
            let failed = try withFailingStandardError(redirection, program, ["inspect", "--pid", "2147483647"])
            XCTAssertEqual(failed.status, 2, "\(redirection): \(failed.stdout)")
        }
    }

    /// The set-ID refusal exits 2 when standard error cannot take it, and runs nothing.
    func testTheSetIDRefusalExitsTwoWhenStandardErrorFails() throws {
        try skipUnderSanitizer("address", because: "LeakSanitizer ignores ASAN_OPTIONS in secure-execution mode")
        let copy = try copyOfAllthreads(mode: 0o4755)
        let arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", copy.path, "setresuid", "0", "0", "0", "--", "/usr/bin/id"]
        for redirection in Self.failingStandardErrors {
            let result = try withFailingStandardError(redirection, "/usr/bin/setpriv", arguments)
            XCTAssertEqual(result.status, 2, "\(redirection): \(result.stdout)")
            XCTAssertEqual(result.stdout, "", redirection)
        }
    }

    // MARK: syscall refuses calls that end or fork the thread

    /// `syscall exit 0` ran exit on every thread and never ended (the main thread a zombie, the
    /// command waiting). Each call that ends, forks or leaves the thread, by name or number, is
    /// a usage error before anything runs; an ordinary call still runs.
    func testSyscallRefusesCallsThatEndOrForkTheThread() throws {
        let names = [
            "exit", "exit_group", "clone", "clone3", "fork", "vfork", "execve", "execveat", "rt_sigreturn", "restart_syscall", "pause", "rt_sigsuspend",
        ]
        for name in names {
            let call = try XCTUnwrap(SystemCall(name: name), name)
            for spelling in [name, "SYS_" + name, "\(call.rawValue)"] {
                try expectUsageError(["syscall", spelling, "0", "--threads", "4", "--", "cat", "/proc/self/status"], "refusing to run \(name) on every thread")
            }
        }
        let getpid = try allthreads(["syscall", "getpid", "--threads", "4", "--verify"])
        XCTAssertEqual(getpid.status, 0, getpid.stderr)
    }

    // MARK: The invoker's terminal

    /// Run by python3: bash on a new pseudo-terminal (python's pty module) stands for root's
    /// interactive shell. It types `argv[2]` and a report of its exit status into the shell,
    /// then each further argument (`wait:PATTERN` waits for the pattern in the output that
    /// follows the last one found, `raw:TEXT` types TEXT without a newline); once the status is
    /// out, a marker line. Prints `completed`
    /// (or `timed out`), `injected` when the file `argv[1]` exists, the status, then the transcript.
    static let terminalHarness = #"""
        import os, pty, re, select, sys, time
        target, command, typed = sys.argv[1], sys.argv[2], sys.argv[3:]
        pid, master = pty.fork()
        if pid == 0:
            os.environ["PS1"] = "$ "
            os.execv("/bin/bash", ["bash", "--norc", "--noprofile"])
        transcript, seen = b"", 0
        def expect(pattern, seconds=60):
            global transcript, seen
            deadline = time.monotonic() + seconds
            while not re.search(pattern, transcript[seen:]):
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                ready, _, _ = select.select([master], [], [], left)
                if ready:
                    try:
                        data = os.read(master, 65536)
                    except OSError:
                        return None
                    if not data:
                        return None
                    transcript += data
            found = re.search(pattern, transcript[seen:])
            seen += found.end()
            return found
        def type_line(text):
            os.write(master, text.encode() + b"\n")
        type_line(command + "; echo status=$((40+2))-$?")
        for line in typed:
            if line.startswith("wait:"):
                expect(line[5:].encode())
            elif line.startswith("raw:"):
                os.write(master, line[4:].encode())
            else:
                type_line(line)
        status = expect(rb"status=42-(\d+)")
        type_line("echo marker-$((6*7))")
        done = expect(rb"marker-42") and status
        type_line("exit")
        expect(rb"\0", 5)
        os.waitpid(pid, 0)
        print("completed" if done else "timed out")
        print("injected" if os.path.exists(target) else "not injected")
        print("status", int(status.group(1)) if status else -1)
        sys.stdout.write(transcript.decode(errors="replace"))
        """#

    /// What ``terminalHarness`` saw.
    struct TerminalRun {
        var completed: Bool
        var injected: Bool
        var status: Int
        var transcript: String
    }

    /// Runs `before` and `allthreads arguments` from bash on a pseudo-terminal
    /// (``terminalHarness``), typing `typed` after it; `target` is the file an injection would make.
    private func onTerminal(
        _ arguments: String, typing typed: [String] = [], target: URL, before: String = "", file: StaticString = #filePath, line: UInt = #line
    ) throws -> TerminalRun {
        let allthreads = productsDirectory().appendingPathComponent("allthreads").path
        let result = try runExecutable(
            URL(fileURLWithPath: "/usr/bin/python3"), ["-c", Self.terminalHarness, target.path, before + allthreads + " " + arguments] + typed, timeout: 150,
            file: file, line: line)
        let lines = result.stdout.split(separator: "\n", maxSplits: 3, omittingEmptySubsequences: false)
        XCTAssertEqual(result.status, 0, result.stderr, file: file, line: line)
        XCTAssertGreaterThanOrEqual(lines.count, 3, result.stdout + result.stderr, file: file, line: line)
        guard lines.count >= 3 else { return TerminalRun(completed: false, injected: false, status: -1, transcript: result.stdout) }
        return TerminalRun(
            completed: lines[0] == "completed", injected: lines[1] == "injected", status: Int(lines[2].dropFirst("status ".count)) ?? -1,
            transcript: lines.count > 3 ? String(lines[3]) : "")
    }

    /// On root's terminal, `drop --user nobody -- CMD` where CMD, as nobody, types `id > FILE`
    /// into its terminal with TIOCSTI (on descriptor 0, and through /dev/tty when no standard
    /// descriptor is a terminal): the line never reaches root's shell, since CMD runs in its own
    /// session on its own pseudo-terminal; its output, its input and its exit status still pass.
    /// With --no-pty the same CMD does reach the shell (it did by default before: root's shell
    /// ran `id` as root), which shows the test sees an injection.
    func testTheCommandCannotTypeIntoTheInvokingTerminal() throws {
        let directory = try worldEnterableDirectory()
        let target = directory.appendingPathComponent("injected")
        func injector(_ terminal: String) -> String {
            let program = """
                import fcntl, os, termios
                print("uid", os.getuid(), flush=True)
                try:
                    fd = \(terminal)
                except OSError as error:
                    print("no terminal:", error, flush=True)
                    raise SystemExit(0)
                for c in b"id > \(target.path)\\n":
                    fcntl.ioctl(fd, termios.TIOCSTI, bytes([c]))
                """
            return "/usr/bin/python3 -c '\(program)'"
        }
        let onStandardInput = injector("0"), throughDevTTY = injector("os.open(\"/dev/tty\", os.O_RDWR)")

        let pty = try onTerminal("drop --user nobody --verify --threads 8 -- \(onStandardInput)", target: target)
        XCTAssertTrue(pty.completed, pty.transcript)
        XCTAssertFalse(pty.injected, pty.transcript)
        XCTAssertEqual(pty.status, 0, pty.transcript)
        XCTAssertTrue(pty.transcript.contains("uid 65534"), pty.transcript)
        XCTAssertTrue(pty.transcript.contains("verified from /proc: all "), pty.transcript)

        let devTTY = try onTerminal("drop --user nobody -- \(throughDevTTY) </dev/null >\(directory.path)/out 2>&1", target: target)
        XCTAssertTrue(devTTY.completed, devTTY.transcript)
        XCTAssertFalse(devTTY.injected, devTTY.transcript)
        XCTAssertEqual(devTTY.status, 0, devTTY.transcript)
        let out = try String(contentsOf: directory.appendingPathComponent("out"), encoding: .utf8)
        XCTAssertTrue(out.contains("uid 65534") && out.contains("no terminal:"), out)

        // The shell's terminal, then the command's: another one.
        let typed = try onTerminal(
            "setuid 65534 -- /bin/sh -c 'echo on-$(tty); read line; echo got-$line; exit 3'", typing: ["hello"], target: target,
            before: "echo on-$(tty); ")
        XCTAssertTrue(typed.completed, typed.transcript)
        XCTAssertEqual(typed.status, 3, typed.transcript)
        XCTAssertTrue(typed.transcript.contains("got-hello"), typed.transcript)
        let terminals = typed.transcript.split(whereSeparator: \.isNewline).filter { $0.hasPrefix("on-/dev/pts/") }
        XCTAssertEqual(terminals.count, 2, typed.transcript)
        XCTAssertNotEqual(terminals.first, terminals.last, typed.transcript)

        // The command stops (SIGSTOP; ^Z does not stop it: its process group has no parent in
        // its session, so the kernel discards the terminal's stop signals): allthreads stops
        // too and the shell gets the terminal back; `fg` continues both.
        let stopped = try onTerminal(
            "setuid 65534 -- /bin/sh -c 'kill -STOP $$; echo resumed-$((1+1)); read line; echo got-$line; exit 4'",
            typing: ["wait:Stopped", "fg", "wait:resumed-2", "raw:\u{1A}", "hello", "wait:got-hello", "wait:\\$ ", "echo status=$((40+2))-$?"],
            target: target)
        XCTAssertTrue(stopped.completed, stopped.transcript)
        // The job's status once continued (the line typed with the command reported the stop),
        // asked once the shell prompts again: typed sooner, the relay would take it.
        XCTAssertEqual(stopped.status, 4, stopped.transcript)

        let legacy = try String(contentsOfFile: "/proc/sys/dev/tty/legacy_tiocsti", encoding: .utf8)
        guard legacy.hasPrefix("1") else { return }
        let shared = try onTerminal("drop --user nobody --no-pty -- \(onStandardInput)", target: target)
        XCTAssertTrue(shared.completed, shared.transcript)
        XCTAssertTrue(shared.injected, "--no-pty: the injection did not reach the shell: \(shared.transcript)")
    }

    // MARK: Help, completions, set-user-ID installs

    func testEveryCommandHasHelpWithExamples() throws {
        let commands = [
            [], ["setuid"], ["setgid"], ["setresuid"], ["setresgid"], ["setgroups"], ["prctl"], ["prctl", "no-new-privs"],
            ["prctl", "keepcaps"], ["prctl", "capbset-drop"], ["prctl", "timerslack"], ["caps"], ["caps", "set"],
            ["caps", "drop"], ["seccomp"], ["drop"], ["syscall"], ["inspect"], ["sandbox"],
        ]
        for command in commands {
            let result = try allthreads(command + ["--help"])
            XCTAssertEqual(result.status, 0, "\(command): \(result.stderr)")
            XCTAssertTrue(result.stdout.contains("Examples:"), "\(command) --help has no examples")
            XCTAssertTrue(result.stdout.contains("USAGE: allthreads"), "\(command) --help has no usage")
        }
        let completion = try allthreads(["--generate-completion-script", "bash"])
        XCTAssertEqual(completion.status, 0, completion.stderr)
        XCTAssertTrue(completion.stdout.contains("-F _allthreads allthreads"), "not a bash completion script")
        XCTAssertTrue(completion.stdout.contains("capbset-drop"), "the script does not know the subcommands")
    }

    /// Installed set-user-ID root, set-group-ID root or with file capabilities, and run by
    /// nobody, it refuses every command — every subcommand its help lists, help itself, every
    /// form of the removed `--allow-setuid-install` and environment variables that ask to run
    /// anyway — with exit 2, the reason as its only line on stderr, nothing on stdout, and no
    /// sign of root anywhere (the change commands end in `-- /usr/bin/id`, which would show it).
    func testSetIDAndFileCapabilityInstallsRefuseEveryCommand() throws {
        // A set-ID or file-capability copy runs in secure-execution mode, where the AddressSanitizer
        // runtime does not take ASAN_OPTIONS from the environment: LeakSanitizer runs at exit, cannot
        // ptrace the process, and turns exit 2 into 1. The plain and ThreadSanitizer runs cover it.
        try skipUnderSanitizer("address", because: "LeakSanitizer ignores ASAN_OPTIONS in secure-execution mode")
        let directory = try worldEnterableDirectory()
        try showPrivilegesAreGranted(in: directory)
        let filter = try temporaryFile("default allow\n")
        let leaves: [String: [String]] = [
            "setuid": ["setuid", "0"], "setgid": ["setgid", "0"], "setresuid": ["setresuid", "0", "0", "0"],
            "setresgid": ["setresgid", "0", "0", "0"], "setgroups": ["setgroups", "0"], "prctl no-new-privs": ["prctl", "no-new-privs"],
            "prctl keepcaps": ["prctl", "keepcaps", "on"], "prctl capbset-drop": ["prctl", "capbset-drop", "cap_chown"],
            "prctl timerslack": ["prctl", "timerslack", "1000"], "caps set": ["caps", "set", "--permitted", "all"],
            "caps drop": ["caps", "drop", "cap_chown"], "seccomp": ["seccomp", filter.path], "drop": ["drop", "--user", "nobody"],
            "syscall": ["syscall", "getpid"], "inspect": ["inspect"],
            "sandbox": ["sandbox", "--rox", "/usr"],
        ]
        XCTAssertEqual(Set(leaves.keys), Set(try commandPaths().map { $0.joined(separator: " ") }), "every command of --help is tried")
        let id = ["--", "/usr/bin/id"]
        var invocations = leaves.values.map { $0 == ["inspect"] ? $0 : $0 + id }
        invocations += [
            [], ["--help"], ["help"], ["inspect", "--help"], ["--generate-completion-script", "bash"], ["inspect", "--pid", "1"],
            ["syscall", "setresuid", "0", "0", "0"] + id, ["drop", "--user", "root"] + id,
            ["setresuid", "0", "0", "0", "--allow-setuid-install"] + id, ["setresuid", "0", "0", "0", "--allow-setuid-install=true"] + id,
            ["--allow-setuid-install", "setresuid", "0", "0", "0"] + id, ["inspect", "--allow-setuid-install"],
        ]
        let environments: [[String: String]] = [
            [:], ["ALLTHREADS_ALLOW_SETUID": "1"], ["ALLTHREADS_ALLOW_SETUID_INSTALL": "1"], ["ALLOW_SETUID_INSTALL": "true"],
        ]
        let installs: [(mode: mode_t, capabilities: String?, refusal: SecureExecution.Refusal)] = [
            (0o4755, nil, .setUserID(real: 65534, effective: 0)),
            (0o2755, nil, .setGroupID(real: 65534, effective: 0)),
            (0o755, "cap_setuid,cap_setgid+ep", .secureExecution),
        ]
        for install in installs {
            let copy = try copyOfAllthreads(mode: install.mode, in: directory)
            if let capabilities = install.capabilities { try setFileCapabilities(capabilities, on: copy) }
            for arguments in invocations {
                for environment in environments {
                    let result = try runAsNobody(copy, arguments, environment: environment)
                    let context =
                        "\(String(install.mode, radix: 8)) \(install.capabilities ?? "") \(environment) \(arguments): \(result.stdout)\(result.stderr)"
                    XCTAssertEqual(result.status, 2, context)
                    XCTAssertEqual(result.stdout, "", context)
                    XCTAssertEqual(result.stderr, "allthreads: \(install.refusal)\n", context)
                    XCTAssertFalse((result.stdout + result.stderr).contains("0(root)"), context)
                }
            }
        }
    }

    /// Checks that files in `directory` do get privileges when nobody runs them (the mount is
    /// not nosuid, setpriv sets no no_new_privs): a set-user-ID and a set-group-ID copy of `id`
    /// show effective id 0, a copy of `cat` with file capabilities shows them in its own
    /// /proc status. Else the refusals could pass without anything to refuse. Neither tool
    /// can use what it gets.
    private func showPrivilegesAreGranted(in directory: URL) throws {
        for (mode, shows) in [(mode_t(0o4755), "euid=0(root)"), (0o2755, "egid=0(root)")] {
            let id = directory.appendingPathComponent("id-\(String(mode, radix: 8))")
            try FileManager.default.copyItem(atPath: "/usr/bin/id", toPath: id.path)
            XCTAssertEqual(chmod(id.path, mode), 0)
            let result = try runAsNobody(id, [])
            XCTAssertTrue(result.stdout.contains(shows), "\(directory.path) does not honour mode \(String(mode, radix: 8)): \(result.stdout)")
        }
        let cat = directory.appendingPathComponent("cat")
        try FileManager.default.copyItem(atPath: "/usr/bin/cat", toPath: cat.path)
        try setFileCapabilities("cap_setuid,cap_setgid+ep", on: cat)
        let status = try runAsNobody(cat, ["/proc/self/status"]).stdout
        // cap_setgid is bit 6, cap_setuid bit 7.
        XCTAssertEqual(field("CapEff", in: status), "00000000000000c0", "\(directory.path) does not honour file capabilities: \(status)")
    }

    /// The leaf commands `--help` lists, found by reading the help of each subcommand in turn.
    private func commandPaths(under path: [String] = []) throws -> [[String]] {
        let help = try allthreads(path + ["--help"])
        XCTAssertEqual(help.status, 0, help.stderr)
        let lines = help.stdout.split(separator: "\n", omittingEmptySubsequences: false).drop { $0 != "SUBCOMMANDS:" }
        let names = lines.compactMap { line -> String? in
            guard line.hasPrefix("  "), !line.hasPrefix("   "), let word = line.split(separator: " ").first,
                word.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "-" })
            else { return nil }
            return String(word)
        }
        if names.isEmpty { return [path] }
        return try names.flatMap { try commandPaths(under: path + [$0]) }
    }

    /// Runs `executable` as uid and gid 65534 (nobody) without supplementary groups.
    private func runAsNobody(_ executable: URL, _ arguments: [String], environment: [String: String] = [:]) throws -> Finished {
        try runExecutable(
            URL(fileURLWithPath: "/usr/bin/setpriv"), ["--reuid=65534", "--regid=65534", "--clear-groups", executable.path] + arguments,
            environment: environment, timeout: 60)
    }

    /// Gives `file` the capabilities `text` (setcap syntax; setcap is in libcap2-bin, which
    /// scripts/deps.sh installs).
    private func setFileCapabilities(_ text: String, on file: URL) throws {
        let result = try runExecutable(
            URL(fileURLWithPath: "/usr/bin/env"), ["setcap", text, file.path], environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"])
        XCTAssertEqual(result.status, 0, "setcap \(text) \(file.path): \(result.stderr)")
    }

    // MARK: Files

    private var files: [URL] = []

    /// A directory every user can enter, removed after the test, for files that run after
    /// dropping root: the build folder may lie in a clone that only root can enter, and `$TMPDIR`
    /// may be private too (`mktemp -d` makes mode 0700 directories). It is under /var/tmp,
    /// whose parents are mode 0755 and which lies on disk: set-ID tests need a mount without
    /// nosuid, and /tmp is often a nosuid tmpfs.
    private func worldEnterableDirectory() throws -> URL {
        let directory = URL(fileURLWithPath: "/var/tmp/allthreads-test-\(getpid())-\(files.count)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
        files.append(directory)
        XCTAssertEqual(chmod(directory.path, 0o755), 0)
        return directory
    }

    /// A copy of the built `allthreads` with `mode`, in `directory` (default: a new
    /// ``worldEnterableDirectory()``).
    private func copyOfAllthreads(mode: mode_t, in directory: URL? = nil) throws -> URL {
        let copy = try (directory ?? worldEnterableDirectory()).appendingPathComponent("allthreads-\(String(mode, radix: 8))")
        try FileManager.default.copyItem(at: productsDirectory().appendingPathComponent("allthreads"), to: copy)
        XCTAssertEqual(chmod(copy.path, mode), 0)
        return copy
    }

    /// A file with `text`, removed after the test.
    private func temporaryFile(_ text: String, mode: mode_t = 0o644) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("allthreads-cli-\(getpid())-\(files.count)")
        try Data(text.utf8).write(to: url)
        XCTAssertEqual(chmod(url.path, mode), 0)
        files.append(url)
        return url
    }

    override func tearDown() {
        for file in files { try? FileManager.default.removeItem(at: file) }
        files = []
        super.tearDown()
    }
}
