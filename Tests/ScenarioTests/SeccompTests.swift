import AllThreads
import AllThreadsTestSupport
import CSeccomp
import SystemPackage
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
        XCTAssertEqual(
            filter.rules,
            [
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
        let filter = SeccompFilter(
            defaultAction: .errno(.noFunction),
            rules: [
                .init("read", .allow), .init("write", .allow), .init("ptrace", .errno(.notPermitted)),
                .init("uname", .errno(Errno(rawValue: 4000))), .init("getppid", .log), .init("getpgid", .trap),
                .init("kexec_load", .killProcess), .init("reboot", .killThread),
            ])
        XCTAssertEqual(
            filter.description,
            """
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
        assertParseErrors(cases)
    }

    func testTheFirstBadLineIsReported() {
        let text = "default allow\nfork2 errno EPERM\ngetppid deny\n"
        XCTAssertTrue(message(try SeccompFilter(parsing: text)).hasPrefix("line 2: "))
    }

    // MARK: - Groups

    /// Each group's members with their numbers in the kernel's tables (Linux 6.18):
    /// `arch/x86/entry/syscalls/syscall_64.tbl` and, for aarch64, the generic `scripts/syscall.tbl`
    /// (`nil`: the table has no such call).
    static let kernelTables: [String: [String: (x86_64: Int?, aarch64: Int?)]] = [
        "clock": ["adjtimex": (159, 171), "clock_adjtime": (305, 266), "clock_settime": (227, 112), "settimeofday": (164, 170)],
        "cpu-emulation": ["modify_ldt": (154, nil)],
        "debug": ["ptrace": (101, 117), "process_vm_readv": (310, 270), "process_vm_writev": (311, 271), "perf_event_open": (298, 241)],
        "keyring": ["add_key": (248, 217), "request_key": (249, 218), "keyctl": (250, 219)],
        "module": ["init_module": (175, 105), "finit_module": (313, 273), "delete_module": (176, 106)],
        "mount": [
            "mount": (165, 40), "umount2": (166, 39), "pivot_root": (155, 41), "chroot": (161, 51), "fsopen": (430, 430),
            "fsconfig": (431, 431), "fsmount": (432, 432), "fspick": (433, 433), "move_mount": (429, 429), "open_tree": (428, 428),
            "mount_setattr": (442, 442), "open_tree_attr": (467, 467),
        ],
        "obsolete": [
            "_sysctl": (156, nil), "afs_syscall": (183, nil), "create_module": (174, nil), "epoll_ctl_old": (214, nil),
            "epoll_wait_old": (215, nil), "get_kernel_syms": (177, nil), "get_thread_area": (211, nil), "getpmsg": (181, nil),
            "lookup_dcookie": (212, 18), "nfsservctl": (180, 42), "putpmsg": (182, nil), "query_module": (178, nil),
            "set_thread_area": (205, nil), "tuxcall": (184, nil), "uselib": (134, nil), "vserver": (236, nil),
        ],
        "privileged": [
            "acct": (163, 89), "sethostname": (170, 161), "setdomainname": (171, 162), "vhangup": (153, 58),
            "open_by_handle_at": (304, 265), "quotactl": (179, 60), "quotactl_fd": (443, 443),
        ],
        "raw-io": ["ioperm": (173, nil), "iopl": (172, nil)],
        "reboot": ["reboot": (169, 142), "kexec_load": (246, 104), "kexec_file_load": (320, 294)],
        "swap": ["swapon": (167, 224), "swapoff": (168, 225)],
    ]

    /// The groups are exactly the table above, per architecture and number; libseccomp,
    /// where it knows a member, gives it the same number on both architectures; no call is
    /// in two groups.
    func testGroupsAreTheKernelTablesMembersPerArchitecture() throws {
        XCTAssertEqual(Set(SeccompFilter.Group.all.map(\.name)), Set(Self.kernelTables.keys))
        var seen: [String: String] = [:]
        for group in SeccompFilter.Group.all {
            let table = try XCTUnwrap(Self.kernelTables[group.name], group.name)
            XCTAssertEqual(group.members.count, Set(group.members.map(\.name)).count, "\(group.name) lists a member twice")
            XCTAssertEqual(Set(group.members.map(\.name)), Set(table.keys), "@\(group.name)")
            for member in group.members {
                if let other = seen.updateValue(group.name, forKey: member.name) { XCTFail("\(member.name) is in @\(other) and @\(group.name)") }
                let numbers = try XCTUnwrap(table[member.name])
                for (architecture, number) in [(SeccompFilter.Group.Architecture.x86_64, numbers.x86_64), (.aarch64, numbers.aarch64)] {
                    XCTAssertEqual(member.number(on: architecture), number, "\(member.name) on \(architecture)")
                    let resolved = Int(seccomp_syscall_resolve_name_arch(seccomp_arch_resolve_name(architecture.rawValue), member.name))
                    // libseccomp gives other architectures' calls negative pseudo-numbers; -1 is a name it does not know.
                    if let number, resolved != -1 { XCTAssertEqual(resolved, number, "libseccomp: \(member.name) on \(architecture)") }
                    if number == nil { XCTAssertLessThan(resolved, 0, "\(member.name) is a call on \(architecture)") }
                }
            }
        }
    }

    /// What a group covers here and what it skips.
    func testNativeAndAbsentMembersPartitionEachGroup() throws {
        let native = try XCTUnwrap(SeccompFilter.Group.Architecture.native)
        for group in SeccompFilter.Group.all {
            XCTAssertEqual(group.nativeMembers, group.members(on: native), group.name)
            XCTAssertEqual(group.absentMembers, group.members.map(\.name).filter { group.members(on: native).contains($0) == false }, group.name)
            // Every member libseccomp knows here is the call it resolves to.
            for member in group.members {
                guard let call = SystemCall(name: member.name) else { continue }
                XCTAssertEqual(call.rawValue, member.number(on: native), member.name)
            }
        }
        // open_tree_attr (Linux 6.15) is newer than libseccomp 2.5 and still covered, by its number.
        XCTAssertTrue(SeccompFilter.Group.mount.nativeMembers.contains("open_tree_attr"))
        if native == .x86_64 {
            XCTAssertEqual(SeccompFilter.Group.rawIO.nativeMembers, ["ioperm", "iopl"])
            XCTAssertEqual(SeccompFilter.Group.all.flatMap(\.absentMembers), [])
        } else {
            XCTAssertEqual(SeccompFilter.Group.rawIO.nativeMembers, [])
            XCTAssertEqual(SeccompFilter.Group.rawIO.absentMembers, ["ioperm", "iopl"])
        }
    }

    func testGroupsMixWithSingleCallsAndRoundTrip() throws {
        let text = "default allow\n@mount errno EPERM\nptrace kill-process\n@clock errno 13\n# modules\n@module trap\n"
        let filter = try SeccompFilter(parsing: text)
        XCTAssertEqual(
            filter.rules,
            [
                .init(group: .mount, .errno(.notPermitted)), .init("ptrace", .killProcess),
                .init(group: .clock, .errno(.permissionDenied)), .init(group: .module, .trap),
            ])
        XCTAssertEqual(filter.rules.map(\.group), [.mount, nil, .clock, .module])
        XCTAssertEqual(filter.description, "default allow\n@mount errno EPERM\nptrace kill-process\n@clock errno EACCES\n@module trap\n")
        XCTAssertEqual(try SeccompFilter(parsing: filter.description), filter)
        XCTAssertNoThrow(try filter.validate())
        // Every group, each with its own action, compiles.
        let all = SeccompFilter(defaultAction: .allow, rules: SeccompFilter.Group.all.map { .init(group: $0, .errno(.notPermitted)) })
        XCTAssertNoThrow(try all.validate())
    }

    func testGroupErrorsNameTheLine() {
        let groups = "the groups are @clock, @cpu-emulation, @debug, @keyring, @module, @mount, @obsolete, @privileged, @raw-io, @reboot, @swap"
        let cases: [(String, String)] = [
            ("default allow\n@mounts errno EPERM\n", "line 2: unknown group '@mounts'; \(groups)"),
            ("default allow\n\n@MOUNT errno EPERM\n", "line 3: unknown group '@MOUNT'"),
            ("default allow\n@ errno EPERM\n", "line 2: unknown group '@'"),
            ("default allow\n@mount\n", "line 2: '@mount' needs an action"),
            ("default allow\n@mount errno EPERM\numount2 errno EPERM\n", "line 3: a second rule for 'umount2'; the first is line 2 (@mount)"),
            ("default allow\numount2 trap\n@mount errno EPERM\n", "line 3: a second rule for 'umount2' (in @mount); the first is line 2"),
            ("default allow\n@clock log\n@clock trap\n", "line 3: a second rule for 'adjtimex' (in @clock); the first is line 2 (@clock)"),
            ("default errno EPERM\n@mount errno EPERM\n", "line 2: the rule for '@mount' has the default action (errno EPERM)"),
        ]
        assertParseErrors(cases)
        let api = SeccompFilter(defaultAction: .allow, rules: [.init("getppid", .trap), .init("@swapping", .trap)])
        XCTAssertTrue(message(try api.validate()).contains("rule 2: unknown group '@swapping'"), message(try api.validate()))
        let twice = SeccompFilter(defaultAction: .allow, rules: [.init(group: .swap, .trap), .init("swapoff", .log)])
        XCTAssertTrue(message(try twice.validate()).contains("rule 2: a second rule for 'swapoff'; the first is rule 1 (@swap)"), message(try twice.validate()))
    }

    // MARK: - Validation (compiles, never loads)

    func testValidateRejectsBadFiltersNamingTheRule() {
        let cases: [(SeccompFilter, String)] = [
            (SeccompFilter(defaultAction: .allow, rules: [.init("fork2", .trap)]), "rule 1: unknown system call 'fork2'"),
            (SeccompFilter(defaultAction: .allow, rules: [.init("", .trap)]), "rule 1: unknown system call ''"),
            (SeccompFilter(defaultAction: .allow, rules: [.init("get ppid", .trap)]), "rule 1: unknown system call 'get ppid'"),
            (SeccompFilter(defaultAction: .allow, rules: [.init("getppid", .errno(Errno(rawValue: 0)))]), "rule 1: errno 0 is out of range 1...4094"),
            (
                SeccompFilter(defaultAction: .allow, rules: [.init("read", .log), .init("getppid", .errno(Errno(rawValue: 5000)))]),
                "rule 2: errno 5000 is out of range 1...4094"
            ),
            (SeccompFilter(defaultAction: .allow, rules: [.init("getppid", .errno(Errno(rawValue: -1)))]), "rule 1: errno -1 is out of range"),
            (SeccompFilter(defaultAction: .errno(Errno(rawValue: 4095))), "the default action: errno 4095 is out of range 1...4094"),
            (
                SeccompFilter(defaultAction: .allow, rules: [.init("getppid", .trap), .init("uname", .log), .init("getppid", .trap)]),
                "rule 3: a second rule for 'getppid'; the first is rule 1"
            ),
            (
                SeccompFilter(defaultAction: .killProcess, rules: [.init("getppid", .killProcess)]),
                "rule 1: the rule for 'getppid' has the default action (kill-process), so it does nothing"
            ),
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

    /// `@mount errno EPERM` and `@clock errno EPERM` on 64+ threads: every member fails with
    /// EPERM on every thread (and otherwise before), non-members work; both modes.
    func testGroupsDenyEveryMemberOnEveryThreadStrict() throws { try scenario("seccomp-groups", ["--threads", "64", "--mode", "strict"]) }

    func testGroupsDenyEveryMemberOnEveryThreadRelaxed() throws { try scenario("seccomp-groups", ["--threads", "64", "--mode", "relaxed"]) }

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
            guard case .invalidArgument(let message) = error.kind else { return "not invalidArgument: \(error)" }
            return message
        }
    }

    /// Parsing each text fails with a message that contains its expected part.
    private func assertParseErrors(_ cases: [(text: String, expected: String)], file: StaticString = #filePath, line: UInt = #line) {
        for (text, expected) in cases {
            let got = message(try SeccompFilter(parsing: text))
            XCTAssertTrue(got.contains(expected), "\(text.debugDescription): \(got)", file: file, line: line)
        }
    }

    /// Each thread's seccomp mode, by tid.
    private func seccompModes() throws -> [Int32: SeccompMode] {
        Dictionary(uniqueKeysWithValues: try ProcessSnapshot.current().threads.map { ($0.tid, $0.credentials.seccomp) })
    }
}
