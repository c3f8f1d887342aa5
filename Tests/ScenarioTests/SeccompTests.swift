import AllThreads
import SystemPackage
import AllThreadsTestSupport
import XCTest

/// Seccomp filters: parsing and validation in this process (nothing is loaded here), and
/// loading with the kernel's thread sync in scenarios of their own, checked through /proc.
final class SeccompTests: XCTestCase {
    // MARK: - Parsing

    func testParsesTheExample() throws {
        let filter = try SeccompFilter(parsing: "default allow\nptrace errno EPERM\nuname errno 38\n")
        XCTAssertEqual(
            filter,
            SeccompFilter(defaultAction: .allow, rules: [.init("ptrace", .errno(.notPermitted)), .init("uname", .errno(.noFunction))]))
    }

    func testParsesEveryActionCommentsBlankLinesTabsAndCRLF() throws {
        let text = """
            # A comment, then a blank line and one of spaces.

               \t
              # an indented comment
            getppid\tlog
            getpgid   trap\r
            kexec_load kill-process
            reboot kill-thread
            ptrace errno eacces
            default errno EPERM
            uname allow
            """
        let filter = try SeccompFilter(parsing: text)
        XCTAssertEqual(filter.defaultAction, .errno(.notPermitted))
        XCTAssertEqual(filter.rules, [
            .init("getppid", .log), .init("getpgid", .trap), .init("kexec_load", .killProcess),
            .init("reboot", .killThread), .init("ptrace", .errno(.permissionDenied)), .init("uname", .allow),
        ])
    }

    func testErrnoValuesByNameAndNumber() throws {
        let cases: [(String, Errno)] = [
            ("EPERM", .notPermitted), ("eacces", .permissionDenied), ("ENOSYS", .noFunction), ("13", .permissionDenied),
            ("1", Errno(rawValue: 1)), ("4094", Errno(rawValue: 4094)), ("EWOULDBLOCK", .resourceTemporarilyUnavailable),
            ("ENOTSUP", .notSupported), ("EOPNOTSUPP", .notSupported), ("ECONNREFUSED", .connectionRefused),
        ]
        for (word, errno) in cases {
            let filter = try SeccompFilter(parsing: "default allow\nptrace errno \(word)\n")
            XCTAssertEqual(filter.rules, [.init("ptrace", .errno(errno))], word)
        }
    }

    func testDescriptionIsTheTextFormatAndRoundTrips() throws {
        let filter = SeccompFilter(defaultAction: .errno(.noFunction), rules: [
            .init("read", .allow), .init("write", .allow), .init("ptrace", .errno(.notPermitted)),
            .init("uname", .errno(Errno(rawValue: 4000))), .init("getppid", .log), .init("getpgid", .trap),
            .init("kexec_load", .killProcess), .init("reboot", .killThread),
        ])
        XCTAssertEqual(filter.description, """
            default errno ENOSYS
            read allow
            write allow
            ptrace errno EPERM
            uname errno 4000
            getppid log
            getpgid trap
            kexec_load kill-process
            reboot kill-thread

            """)
        XCTAssertEqual(try SeccompFilter(parsing: filter.description), filter)
        XCTAssertEqual(SeccompFilter.Rule("ptrace", .errno(.permissionDenied)).description, "ptrace errno EACCES")
    }

    func testParseErrorsNameTheLineAndWhatIsWrong() {
        let cases: [(String, String)] = [
            ("default allow\nfork2 errno EPERM\n", "line 2: unknown system call 'fork2'"),
            ("default allow\ngetppid\0 errno EPERM\n", "line 2: unknown system call"),
            ("default allow\nsocketcall errno EPERM\n", "line 2: unknown system call 'socketcall'"),
            ("default allow\ngetppid errno 0\n", "line 2: errno 0 is out of range 1...4094"),
            ("default allow\ngetppid errno 5000\n", "line 2: errno 5000 is out of range 1...4094"),
            ("default allow\ngetppid errno 99999999999999999999\n", "line 2: errno 99999999999999999999 is out of range"),
            ("default errno 4095\n", "line 1: errno 4095 is out of range 1...4094"),
            ("default allow\ngetppid errno -1\n", "line 2: unknown errno name '-1'"),
            ("default allow\ngetppid errno EWHATEVER\n", "line 2: unknown errno name 'EWHATEVER'"),
            ("default allow\ngetppid errno\n", "line 2: errno needs a value"),
            ("default allow\ngetppid\n", "line 2: 'getppid' needs an action"),
            ("default\n", "line 1: default needs an action"),
            ("default allow\ngetppid deny\n", "line 2: unknown action 'deny'; expected allow, log, trap, kill-process, kill-thread or errno"),
            ("default allow\ngetppid ALLOW\n", "line 2: unknown action 'ALLOW'"),
            ("default allow\ngetppid errno EPERM # no\n", "line 2: unexpected '# no' after the action"),
            ("default allow extra\n", "line 1: unexpected 'extra' after the action"),
            ("default allow\nthis is not a rule\n", "line 2: unknown system call 'this'"),
            ("default allow\n\n# c\ngetppid trap\ngetppid log\n", "line 5: a second rule for 'getppid'; the first is line 4"),
            ("default allow\ngetppid trap\ndefault allow\n", "line 3: a second default line; the first is line 1"),
            ("default trap\ngetppid trap\n", "line 2: the rule for 'getppid' has the default action (trap), so it does nothing"),
            ("default errno EPERM\ngetppid errno 1\n", "line 2: the rule for 'getppid' has the default action (errno EPERM)"),
            ("getppid errno EPERM\n", "no 'default ACTION' line; exactly one is needed"),
            ("", "the filter text is empty"),
            ("\n\n# only comments\n  \t\n", "the filter text is empty"),
        ]
        for (text, expected) in cases {
            XCTAssertTrue(message(try SeccompFilter(parsing: text)).contains(expected), "\(text.debugDescription): \(message(try SeccompFilter(parsing: text)))")
        }
    }

    func testTheFirstBadLineIsReported() {
        let text = "default allow\nfork2 errno EPERM\ngetppid deny\n"
        XCTAssertTrue(message(try SeccompFilter(parsing: text)).hasPrefix("line 2: "))
    }

    // MARK: - Validation (compiles, never loads)

    func testValidateRejectsBadFiltersNamingTheRule() {
        let cases: [(SeccompFilter, String)] = [
            (SeccompFilter(defaultAction: .allow, rules: [.init("fork2", .trap)]), "rule 1: unknown system call 'fork2'"),
            (SeccompFilter(defaultAction: .allow, rules: [.init("", .trap)]), "rule 1: unknown system call ''"),
            (SeccompFilter(defaultAction: .allow, rules: [.init("get ppid", .trap)]), "rule 1: unknown system call 'get ppid'"),
            (SeccompFilter(defaultAction: .allow, rules: [.init("getppid", .errno(Errno(rawValue: 0)))]), "rule 1: errno 0 is out of range 1...4094"),
            (SeccompFilter(defaultAction: .allow, rules: [.init("read", .log), .init("getppid", .errno(Errno(rawValue: 5000)))]),
             "rule 2: errno 5000 is out of range 1...4094"),
            (SeccompFilter(defaultAction: .allow, rules: [.init("getppid", .errno(Errno(rawValue: -1)))]), "rule 1: errno -1 is out of range"),
            (SeccompFilter(defaultAction: .errno(Errno(rawValue: 4095))), "the default action: errno 4095 is out of range 1...4094"),
            (SeccompFilter(defaultAction: .allow, rules: [.init("getppid", .trap), .init("uname", .log), .init("getppid", .trap)]),
             "rule 3: a second rule for 'getppid'; the first is rule 1"),
            (SeccompFilter(defaultAction: .killProcess, rules: [.init("getppid", .killProcess)]),
             "rule 1: the rule for 'getppid' has the default action (kill-process), so it does nothing"),
        ]
        for (filter, expected) in cases {
            XCTAssertTrue(message(try filter.validate()).contains(expected), "\(filter.rules): \(message(try filter.validate()))")
        }
    }

    func testValidateAcceptsEveryActionAndChangesNothing() throws {
        let before = try seccompModes()
        let actions: [SeccompFilter.Action] = [.allow, .log, .trap, .killThread, .killProcess, .errno(.notPermitted), .errno(Errno(rawValue: 4094))]
        for defaultAction in actions {
            let rules = actions.enumerated().filter { $0.element != defaultAction }.map { index, action in
                SeccompFilter.Rule(["getppid", "getpgid", "uname", "ptrace", "reboot", "kexec_load", "acct"][index], action)
            }
            XCTAssertNoThrow(try SeccompFilter(defaultAction: defaultAction, rules: rules).validate(), "\(defaultAction)")
        }
        XCTAssertNoThrow(try SeccompFilter(defaultAction: .errno(.permissionDenied)).validate())
        // Threads of the test runner come and go: compare the threads that exist both times.
        let after = try seccompModes()
        for (tid, mode) in after { if let earlier = before[tid] { XCTAssertEqual(mode, earlier, "tid \(tid) changed") } }
        XCTAssertEqual(Set(after.values), Set(before.values), "validate() changed a thread's seccomp mode")
        XCTAssertEqual(Set(before.values).count, 1, "threads disagree: \(before)")
    }

    func testValidateCompilesAFilterWithManyRules() throws {
        let names = [
            "read", "write", "openat", "close", "fstat", "mmap", "munmap", "brk", "ioctl", "pipe2", "dup3", "socket",
            "connect", "accept4", "sendto", "recvfrom", "bind", "listen", "clone", "execve", "exit_group", "kill",
            "uname", "fcntl", "flock", "fsync", "getcwd", "chdir", "rename", "mkdir", "rmdir", "unlink", "readlink",
            "chmod", "chown", "umask", "getrlimit", "ptrace", "syslog", "setuid", "setgid", "mount", "umount2",
            "swapon", "reboot", "init_module", "delete_module", "kexec_load", "bpf", "perf_event_open",
        ]
        let filter = SeccompFilter(defaultAction: .allow, rules: names.map { .init($0, .errno(.notPermitted)) })
        XCTAssertNoThrow(try filter.validate())
    }

    // MARK: - Loading, in processes of their own

    /// 64+ threads of every kind get the filter in one TSYNC load: Seccomp: 2 on every thread,
    /// and a probe of the denied calls fails with the rule's errno on every thread.
    func testLoadReachesEveryThread() throws { try scenario("seccomp-all", ["--threads", "64"]) }

    /// A thread with a filter of its own: seccompSyncFailed names exactly it; no thread changed.
    func testSyncFailureNamesTheThreadAndChangesNothing() throws { try scenario("seccomp-sync-fail") }

    /// Every validation error gives a clear message; no thread changes.
    func testBadInputChangesNothing() throws { try scenario("seccomp-bad-input") }

    /// Without CAP_SYS_ADMIN: EACCES and no change; with no_new_privs on every thread it loads.
    func testUnprivilegedLoadNeedsNoNewPrivs() throws { try scenario("seccomp-unprivileged") }

    // MARK: - Helpers

    /// The message of the `.invalidArgument` that `body` throws; a description of anything else.
    private func message<T>(_ body: @autoclosure () throws(AllThreadsError) -> T) -> String {
        do {
            _ = try body()
            return "no error"
        } catch {
            guard case .invalidArgument(let message) = error else { return "not invalidArgument: \(error)" }
            return message
        }
    }

    /// Each thread's seccomp mode, by tid.
    private func seccompModes() throws -> [Int32: SeccompMode] {
        Dictionary(uniqueKeysWithValues: try ProcessSnapshot.current().threads.map { ($0.tid, $0.credentials.seccomp) })
    }
}
