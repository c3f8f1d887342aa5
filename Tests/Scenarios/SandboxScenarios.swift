import AllThreads
import AllThreadsCLISupport
import CBroadcast
import CFaults
import Foundation
import Glibc
import SystemPackage

/// The sandbox (Landlock files, ports and scopes, no_new_privs) in one stop on 200+ threads of
/// every kind. Each scenario takes `--mode strict|relaxed`; after the sandbox, every thread runs
/// probes itself (a second broadcast, each thread's result compared by the engine) and /proc
/// shows no_new_privs on every thread.
enum SandboxScenarios {
    static let all: [String: Scenario] = [
        "sandbox": sandbox,
        "sandbox-abi-strict": abiStrict,
        "sandbox-abi-best-effort": abiBestEffort,
        "sandbox-bad-input": badInput,
        "sandbox-scopes": scopes,
        "sandbox-thread-disagrees": threadDisagrees,
        "sandbox-io-uring": ioUring,
    ]

    /// A tree in the directory `--root`: `ro/` (a file, an executable file, a FIFO) and `rw/` (a FIFO).
    struct Tree {
        let root: String
        var ro: String { root + "/ro" }
        var rw: String { root + "/rw" }

        /// Makes the tree in `--root`, an empty directory the test made (and removes).
        init(_ args: ScenarioArguments) throws {
            guard let root = args.values["root"] else { throw ScenarioFailure(description: "--root DIRECTORY is required") }
            self.root = root
            for dir in [root + "/ro", root + "/rw"] { try require(mkdir(dir, 0o755) == 0, "mkdir \(dir): \(Errno(rawValue: errno))") }
            try require(FileManager.default.createFile(atPath: root + "/ro/file", contents: Data("x".utf8)), "cannot write ro/file")
            try require(
                FileManager.default.createFile(atPath: root + "/ro/tool", contents: Data("#!/bin/sh\n".utf8), attributes: [.posixPermissions: 0o755]),
                "cannot write ro/tool")
            // 0666 whatever the umask: after the credential drop, nobody opens rw/fifo for writing.
            for fifo in [root + "/ro/fifo", root + "/rw/fifo"] { try require(mkfifo(fifo, 0o666) == 0 && chmod(fifo, 0o666) == 0, "mkfifo \(fifo)") }
        }
    }

    /// The user the `sandbox` scenario drops to.
    static let nobody = 65534
    static let openat = SystemCall(rawValue: Int(SYS_openat))
    static let execveat = SystemCall(rawValue: Int(SYS_execveat))
    static let oDirect = LinuxFlags.direct

    /// Every thread runs `call` itself; all must agree (the engine compares), and the result must be `expected`.
    static func everyThread(_ what: String, _ expected: Errno?, _ call: SystemCall, _ arguments: Int...) throws {
        let step = BroadcastStep(call, arguments: arguments.map(BroadcastStep.Argument.value), expecting: .probe)
        let result = try Broadcast.run(BroadcastProgram([step])).result
        try require(
            result.errno == expected && (expected != nil || result.rawValue == 0),
            "\(what): every thread got \(result), expected \(expected.map { "\($0)" } ?? "0")")
    }

    /// `openat(path, flags)` on every thread.
    static func open(_ path: String, _ flags: Int32, _ expected: Errno) throws {
        try path.withCString { p in try everyThread("openat(\(path))", expected, openat, Int(AT_FDCWD), Int(bitPattern: p), Int(flags | O_CLOEXEC)) }
    }

    /// `execveat(path, AT_EXECVE_CHECK)` on every thread.
    static func executable(_ path: String, _ expected: Errno?) throws {
        try path.withCString { p in
            try everyThread("execveat(\(path), AT_EXECVE_CHECK)", expected, execveat, Int(AT_FDCWD), Int(bitPattern: p), 0, 0, LinuxFlags.executeCheck)
        }
    }

    /// A TCP socket listening on 127.0.0.1: bind and connect on it reach Landlock, then fail in TCP.
    static func listeningSocket() throws -> CInt {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, 16) } }
        try require(fd >= 0 && bound == 0 && listen(fd, 0) == 0, "no listening socket on 127.0.0.1")
        return fd
    }

    /// `bind` or `connect` of the listening socket to 127.0.0.1:`port` on every thread.
    static func port(_ socketFD: CInt, _ call: Int, _ port: Int, _ expected: Errno) throws {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        try withUnsafePointer(to: &address) { a in
            try everyThread(
                "\(call == Int(SYS_bind) ? "bind" : "connect")(\(port))", expected, SystemCall(rawValue: call), Int(socketFD), Int(bitPattern: a), 16)
        }
    }

    /// The sandbox's rules for `tree`: ro read, rw read+write, /usr read+execute, /proc read (the
    /// checks read it), /proc/version read, a missing path ignored, /dev/null read+write (a device: no proof opens it),
    /// ro/tool read (executable, not granted execute: a denial proof), /usr/bin/env read (execute granted by /usr: no denial proof); bind 8080, connect 443.
    static func rules(
        _ tree: Tree, compatibility: Sandbox.Compatibility = .strict, seccomp: SeccompFilter? = nil, credentials: PrivilegeDrop? = nil
    ) throws -> Sandbox {
        try Sandbox(
            paths: [
                .init(FilePath(tree.ro), .read), .init(FilePath(tree.rw), .readWrite), .init("/usr", .readExecute),
                .init(FilePath(tree.ro + "/file"), .read), .init("/proc/version", .read), .init("/usr/bin/true", .readExecute),
                .init("/proc", .read), .init("/no/such/path", .read, ignoreIfMissing: true), .init("/dev/null", .readWrite),
                .init(FilePath(tree.ro + "/tool"), .read), .init("/usr/bin/env", .read),
            ],
            ports: [.init(8080, .bindTCP), .init(443, .connectTCP)],
            compatibility: compatibility, seccomp: seccomp, credentials: credentials)
    }

    /// No thread is sandboxed: /proc shows no_new_privs off everywhere, and every thread still
    /// opens `/` (O_DIRECT: EINVAL, not EACCES) and binds any port (EINVAL, not EACCES).
    static func requireUnchanged(_ socketFD: CInt) throws -> Int {
        let checked = try verifyEveryThread("without no_new_privs (nothing changed)") { !$0.credentials.noNewPrivs }
        try open("/", O_RDONLY | O_DIRECTORY | oDirect, .invalidArgument)
        try port(socketFD, Int(SYS_bind), 9, .invalidArgument)
        return checked
    }

    /// 200+ threads; the sandbox and a credential drop to nobody apply in one broadcast with
    /// their proofs, and the seccomp filter after it; then every thread shows each denial and
    /// allowance itself (and so do 16 threads started afterwards), and /proc shows on every
    /// thread the drop (ids, no groups, no capabilities), no_new_privs and the filter.
    static func sandbox(_ args: ScenarioArguments) throws -> String {
        let mode = try args.mode()
        try ThreadCrowd.start(count: try args.int("units", default: 270))
        let tree = try Tree(args)
        let socketFD = try listeningSocket()
        let filter = try SeccompFilter(parsing: "default allow\ngetpgid errno EPERM\n")
        let drop = try PrivilegeDrop(user: UserID(rawValue: UInt32(nobody)), groups: [], noNewPrivileges: true)
        let report = try rules(tree, seccomp: filter, credentials: drop).apply(options: BroadcastOptions(mode: mode))
        // One stop ran every step: no_new_privs, the domain, the proofs, the drop and its context step.
        let steps = 2 + report.proofs.count + drop.program.steps.count + 1
        try require(report.broadcast.stepResults.count == steps, "the stop ran \(report.broadcast.stepResults.count) steps, not all \(steps)")
        try require(
            report.fileSystem == .enforced && report.network == .enforced && report.scopes == .notRequested && report.seccomp == .enforced,
            "layers: \(report)")
        try require(report.credentials?.count ?? 0 >= report.broadcast.threads, "the drop's /proc proof: \(report.credentials?.count ?? 0) threads")
        try require(report.missingPaths == ["/no/such/path"], "missing paths: \(report.missingPaths)")
        try require(!report.proofs.contains { $0.contains("/dev/null") }, "a proof opens a device: \(report.proofs)")
        try require(!report.proofs.contains { $0.contains("/usr/bin/env") }, "/usr/bin/env is executable through /usr, yet a proof denies it: \(report.proofs)")
        for fragment in [
            "execveat(\"\(tree.ro)/tool\", AT_EXECVE_CHECK): execute is granted neither", "openat(\"/\"", "openat(\"\(tree.ro)\"", "/proc/version",
            "execveat(\"/usr/bin/true\"", "bind(127.0.0.1:8080)", "bind(127.0.0.1:65535)", "connect(127.0.0.1:443)",
        ] {
            try require(report.proofs.contains { $0.contains(fragment) }, "no proof step \(fragment): \(report.proofs)")
        }
        // Each thread, itself: denials and allowances.
        try open("/etc/passwd", O_RDONLY, .permissionDenied)
        try open(tree.root, O_RDONLY | O_DIRECTORY, .permissionDenied)
        try open(tree.ro, O_RDONLY | O_DIRECTORY | oDirect, .invalidArgument)
        try open(tree.ro + "/fifo", O_WRONLY | O_NONBLOCK, .permissionDenied)
        try open(tree.rw + "/fifo", O_WRONLY | O_NONBLOCK, .noSuchAddressOrDevice)
        try executable("/usr/bin/true", nil)
        try executable(tree.ro + "/tool", .permissionDenied)
        try port(socketFD, Int(SYS_bind), 8080, .invalidArgument)
        try port(socketFD, Int(SYS_bind), 8081, .permissionDenied)
        try port(socketFD, Int(SYS_connect), 443, .socketIsConnected)
        try port(socketFD, Int(SYS_connect), 80, .permissionDenied)
        try everyThread("getpgid(0) under the seccomp filter", .notPermitted, SystemCall(rawValue: Int(SYS_getpgid)), 0)
        try everyThread("setuid(0) after the drop", .notPermitted, SystemCall(rawValue: Int(SYS_setuid)), 0)
        // Threads started afterwards inherit their creator's domain.
        try ThreadCrowd.grow(by: 16)
        try open("/etc/passwd", O_RDONLY, .permissionDenied)
        try open(tree.ro, O_RDONLY | O_DIRECTORY | oDirect, .invalidArgument)
        let checked = try verifyEveryThread("dropped to nobody, without groups or capabilities, with no_new_privs and a seccomp filter") {
            let c = $0.credentials
            return c.uids.all(equal: UserID(rawValue: UInt32(nobody))) && c.gids.all(equal: GroupID(rawValue: UInt32(nobody))) && c.groups.isEmpty
                && c.capabilities.permitted.isEmpty
                && c.capabilities.effective.isEmpty && c.capabilities.bounding.isEmpty && c.noNewPrivs && c.seccomp == .filter
        }
        try require(
            report.broadcast.threads + 16 == checked && report.broadcast.threads >= 200,
            "the report counts \(report.broadcast.threads) threads, /proc \(checked) with the 16 started afterwards (200 or more wanted)")
        return "\(mode): \(report)"
    }

    /// A kernel of ABI 3 (simulated) lacks the network rights: strict refuses before any thread
    /// changes. ABI 8 (simulated on a kernel below it): the sandbox takes the process-wide path
    /// (TSYNC), which the kernel refuses before any thread changes, with a drop or without.
    static func abiStrict(_ args: ScenarioArguments) throws -> String {
        let mode = try args.mode()
        try ThreadCrowd.start(count: try args.int("units", default: 270))
        let tree = try Tree(args)
        let socketFD = try listeningSocket()
        do {
            let report = try rules(tree).apply(options: BroadcastOptions(mode: mode), assumingABI: 3)
            throw ScenarioFailure(description: "strict accepted a sandbox that ABI 3 lacks: \(report)")
        } catch let error as AllThreadsError {
            guard case .landlockUnsupported(3, let missing) = error.kind else {
                throw ScenarioFailure(description: "expected landlockUnsupported, got \(error)")
            }
            try require(missing == ["ioctl_dev (ABI 5)", "bind_tcp (ABI 4)", "connect_tcp (ABI 4)"], "missing: \(missing)")
        }
        // ABI 8 (simulated): the domain would be one for the process (TSYNC); this kernel refuses
        // the flag, alone and with a credential drop, and nothing changed.
        var tsync = "this kernel has ABI 8: not simulated"
        if try Landlock.abiVersion() < Landlock.processWideABI {
            let drop = try PrivilegeDrop(user: UserID(rawValue: UInt32(nobody)), groups: [])
            for credentials in [nil, drop] {
                do {
                    let report = try rules(tree, credentials: credentials).apply(options: BroadcastOptions(mode: mode), assumingABI: 8)
                    throw ScenarioFailure(description: "ABI 8 simulated on a kernel without TSYNC was applied: \(report)")
                } catch let error as AllThreadsError {
                    guard case .setupFailed(.invalidArgument) = error.kind else {
                        throw ScenarioFailure(description: "expected the kernel's EINVAL for TSYNC, got \(error)")
                    }
                }
            }
            try require(try verifyEveryThread("root (no drop)") { $0.credentials.uids.effective.rawValue == 0 } >= 200, "fewer than 200 threads")
            tsync = "ABI 8 (simulated) tried LANDLOCK_RESTRICT_SELF_TSYNC, which this kernel refused (EINVAL), with and without a drop"
        }
        let checked = try requireUnchanged(socketFD)
        return "\(mode): refused (ABI 3 lacks ioctl_dev, bind_tcp, connect_tcp); \(tsync); \(checked) threads unchanged"
    }

    /// The same at best effort: the file system is enforced without ioctl_dev, the network not at all.
    static func abiBestEffort(_ args: ScenarioArguments) throws -> String {
        let mode = try args.mode()
        try ThreadCrowd.start(count: try args.int("units", default: 270))
        let tree = try Tree(args)
        let socketFD = try listeningSocket()
        let report = try rules(tree, compatibility: .bestEffort).apply(options: BroadcastOptions(mode: mode), assumingABI: 3)
        try require(report.fileSystem == .partiallyEnforced(missing: ["ioctl_dev"]), "file system: \(report.fileSystem)")
        try require(report.network == .notEnforced(missing: ["bind_tcp", "connect_tcp"]), "network: \(report.network)")
        try require(!report.proofs.contains { $0.contains("bind(") }, "a network proof without network rules: \(report.proofs)")
        try open("/etc/passwd", O_RDONLY, .permissionDenied)
        try port(socketFD, Int(SYS_bind), 8081, .invalidArgument)
        try port(socketFD, Int(SYS_connect), 80, .socketIsConnected)
        let checked = try verifyEveryThread("with no_new_privs") { $0.credentials.noNewPrivs }
        return "\(mode): \(checked) threads; \(report)"
    }

    /// Bad input is refused with a message naming it, and nothing changed.
    static func badInput(_ args: ScenarioArguments) throws -> String {
        try ThreadCrowd.start(count: try args.int("units", default: 270))
        let tree = try Tree(args)
        let socketFD = try listeningSocket()
        let cases: [(String, String, () throws -> Void)] = [
            ("missing path", "path rule 1 (\"/no/such/path\") cannot be opened", { try Sandbox(paths: [.init("/no/such/path", .read)]).apply() }),
            ("port 0", "port rule 1 (port 0): a TCP port is 1...65535", { _ = try Sandbox(ports: [.init(0, .bindTCP)]) }),
            ("port 65536", "a TCP port is 1...65535", { _ = try Sandbox(ports: [.init(65536, .connectTCP)]) }),
            ("no right", "grants no right", { _ = try Sandbox(paths: [.init("/usr", [])]) }),
            (
                "unknown right", "unknown bits",
                { _ = try Sandbox(paths: [.init("/usr", FileSystemAccess(rawValue: 1 << 40))], restrictingFileSystem: FileSystemAccess(rawValue: 1 << 40)) }
            ),
            (
                "unrestricted right", "which the sandbox does not restrict",
                { _ = try Sandbox(paths: [.init("/usr", .readExecute)], restrictingFileSystem: .read) }
            ),
            (
                "directory rights on a file", "holds no right that applies to a file",
                { try Sandbox(paths: [.init(FilePath(tree.ro + "/file"), .readDirectory)]).apply() }
            ),
            ("a newline in a missing path", "\\u{a}", { try Sandbox(paths: [.init("/no/such\npath", .read)]).apply() }),
            ("bad seccomp filter", "unknown system call", { _ = try Sandbox(seccomp: SeccompFilter(parsing: "default allow\nno_such_call errno EPERM\n")) }),
            ("profile: unknown field", "line 2: unknown field \"rox2\"", { _ = try Sandbox(profile: "ro \(tree.ro)\nrox2 /usr\n") }),
            ("profile: wrong type", "line 3: field 'best-effort': takes no value", { _ = try Sandbox(profile: "# c\nro /usr\nbest-effort yes\n") }),
            ("profile: bad path", "line 1: field 'rw': \"var/tmp\" is not an absolute path", { _ = try Sandbox(profile: "rw var/tmp\n") }),
            ("profile: missing path", "line 2: field 'ro': \"/no/such/path\" cannot be opened", { _ = try Sandbox(profile: "ro /usr\nro /no/such/path\n") }),
            ("profile: bad port", "line 1: field 'connect-tcp': \"0\" is not a TCP port", { _ = try Sandbox(profile: "connect-tcp 443, 0\n") }),
            (
                "profile: duplicate path", "line 2: field 'rw': \"\(tree.ro)\" is already granted on line 1",
                { _ = try Sandbox(profile: "ro \(tree.ro)\nrw \(tree.ro)/\n") }
            ),
            (
                "profile: duplicate field", "line 3: field 'user': given twice; the first is line 1",
                { _ = try Sandbox(profile: "user nobody\nro /proc\nuser \(nobody)\n") }
            ),
            ("profile: root", "line 1: field 'user': user 'root' is root", { _ = try Sandbox(profile: "user root\n") }),
            (
                "profile: bad seccomp line", "line 2: field 'seccomp': unknown system call",
                { _ = try Sandbox(profile: "seccomp default allow\nseccomp no_such_call errno EPERM\n") }
            ),
        ]
        for (name, fragment, call) in cases {
            do {
                try call()
                throw ScenarioFailure(description: "\(name) was accepted")
            } catch let error as AllThreadsError {
                guard case .invalidArgument(let message) = error.kind, message.contains(fragment) else {
                    throw ScenarioFailure(description: "\(name): expected an invalid argument containing \(fragment), got \(error)")
                }
            }
        }
        let checked = try requireUnchanged(socketFD)
        return "\(cases.count) bad inputs refused; \(checked) threads unchanged"
    }

    /// Scopes with a domain per thread (ABI < 8): a sibling thread's abstract socket, bound
    /// after the sandbox in its own domain, is out of the caller's reach, while that of a thread
    /// the caller starts afterwards (which inherits the caller's domain) is not; the engine's own
    /// signal still reaches every thread (Landlock lets threads of one process signal each other).
    static func scopes(_ args: ScenarioArguments) throws -> String {
        let mode = try args.mode()
        guard try Landlock.abiVersion() >= LandlockScope.minimumABI else { return "SKIPPED: no Landlock scopes (ABI < 6)" }
        try ThreadCrowd.start(count: try args.int("units", default: 270))
        let sibling = SiblingListener(name: "allthreads-sandbox-\(getpid())")
        let report = try Sandbox(restrictingFileSystem: [], scopes: .all).apply(options: BroadcastOptions(mode: mode))
        try require(report.scopes == .enforced, "scopes: \(report.scopes)")
        for fragment in [
            "kill(\(getppid()), 0): the parent process is outside the domain (Operation not permitted)", "abstract UNIX socket bound before the sandbox",
        ] {
            try require(report.proofs.contains { $0.contains(fragment) }, "no proof step \(fragment): \(report.proofs)")
        }
        let bound = sibling.bindAfterSandbox()
        try require(bound == 0, "the sibling could not bind its abstract socket: \(Errno(rawValue: bound))")
        let connected = sibling.connectFromHere()
        try require(
            connected == EPERM,
            "connecting to a sibling thread's abstract socket gave \(connected == 0 ? "success" : "\(Errno(rawValue: connected))"), expected EPERM (a domain per thread)"
        )
        // A thread the caller starts now inherits the caller's own domain: its socket is in reach.
        let child = SiblingListener(name: "allthreads-sandbox-child-\(getpid())")
        try require(child.bindAfterSandbox() == 0, "the caller's new thread could not bind its abstract socket")
        let reached = child.connectFromHere()
        try require(reached == 0, "connecting to the abstract socket of a thread in the caller's own domain gave \(Errno(rawValue: reached))")
        let again = try Broadcast.probe(.getpid)
        try require(again.rawValue == Int(getpid()), "a broadcast after the signal scope gave \(again)")
        let checked = try verifyEveryThread("with no_new_privs") { $0.credentials.noNewPrivs }
        return
            "\(mode): \(checked) threads; an abstract socket bound after the scope by a sibling that entered its own domain is refused (EPERM), by a thread started from the caller afterwards (same domain) accepted; our signal still reaches every thread"
    }
}

extension SandboxScenarios {
    /// One thread entered a Landlock domain of its own beforehand that denies listing any
    /// directory: the sandbox's proof that an allowed directory opens fails on that thread only,
    /// and the error names it.
    static func threadDisagrees(_ args: ScenarioArguments) throws -> String {
        let mode = try args.mode()
        try ThreadCrowd.start(count: try args.int("units", default: 270))
        let tree = try Tree(args)
        let odd = OddThread()
        do {
            let report = try rules(tree).apply(options: BroadcastOptions(mode: mode))
            throw ScenarioFailure(description: "the proof passed although one thread cannot list directories: \(report)")
        } catch let error as AllThreadsError {
            guard case .stepMismatch(let threads) = error.kind, threads.count == 1, let named = threads.first,
                named.thread.tid == odd.tid, named.thread.name == "odd-one", named.result.errno == .permissionDenied
            else { throw ScenarioFailure(description: "expected one mismatch naming tid \(odd.tid) (odd-one) with EACCES, got \(error)") }
            return "\(mode): \(error)"
        }
    }
}

extension SandboxScenarios {
    /// The process holds an io_uring ring (its workers keep the credentials from before, domain
    /// included): the sandbox is refused, naming the ring, and nothing changed.
    static func ioUring(_ args: ScenarioArguments) throws -> String {
        try ThreadCrowd.start(count: try args.int("units", default: 270))
        let tree = try Tree(args)
        let socketFD = try listeningSocket()
        let ring = cw_ring_create(0)
        guard ring >= 0 else { return "SKIPPED: no io_uring here (\(Errno(rawValue: -ring)))" }
        do {
            let report = try rules(tree).apply()
            throw ScenarioFailure(description: "a sandbox was applied while the process holds an io_uring ring: \(report)")
        } catch let error as AllThreadsError {
            guard case .privilegeRetained(let found, threadsChanged: false) = error.kind, found.count == 1, case .ioUringRing = found[0] else {
                throw ScenarioFailure(description: "expected privilegeRetained naming the ring, got \(error)")
            }
        }
        let checked = try requireUnchanged(socketFD)
        return "refused while the process holds an io_uring ring; \(checked) threads unchanged"
    }
}

/// A thread named `odd-one` that restricts itself (and only itself) with a Landlock ruleset that
/// handles read_dir and grants it nowhere, then waits forever.
private final class OddThread: @unchecked Sendable {
    private let ready = DispatchSemaphore(value: 0)
    private(set) var tid: Int32 = 0

    init() {
        let thread = Thread { [self] in
            tid = Int32(cb_syscall(Int(SYS_gettid), 0, 0, 0, 0, 0, 0))
            _ = "odd-one".withCString { cb_syscall(Int(SYS_prctl), Int(PR_SET_NAME), Int(bitPattern: $0), 0, 0, 0, 0) }
            var handled = UInt64(LANDLOCK_ACCESS_FS_READ_DIR)
            let fd = withUnsafePointer(to: &handled) { cb_syscall(Int(SYS_landlock_create_ruleset), Int(bitPattern: $0), 8, 0, 0, 0, 0) }
            _ = cb_syscall(Int(SYS_prctl), Int(PR_SET_NO_NEW_PRIVS), 1, 0, 0, 0, 0)
            _ = cb_syscall(Int(SYS_landlock_restrict_self), fd, 0, 0, 0, 0, 0)
            ready.signal()
            DispatchSemaphore(value: 0).wait()
        }
        thread.start()
        ready.wait()
    }
}

/// A Foundation thread that, once told, binds and listens on an abstract UNIX socket in its own
/// Landlock domain (it entered it in its handler like every thread).
private final class SiblingListener: @unchecked Sendable {
    private let name: String
    private let go = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    private var result: CInt = 0

    init(name: String) {
        self.name = name
        let thread = Thread { [self] in
            go.wait()
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            var address = Self.address(name)
            let ok =
                fd >= 0 && withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, Self.length(name)) } } == 0
                && listen(fd, 1) == 0
            result = ok ? 0 : errno
            done.signal()
            go.wait()  // keeps the socket open until the process exits
        }
        thread.start()
    }

    /// Tells the sibling to bind and waits for its answer: 0 or an errno.
    func bindAfterSandbox() -> CInt {
        go.signal()
        done.wait()
        return result
    }

    /// Connects from the calling thread: 0 or an errno.
    func connectFromHere() -> CInt {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { close(fd) }
        var address = Self.address(name)
        let r = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, Self.length(name)) } }
        return r == 0 ? 0 : errno
    }

    /// An abstract address: a NUL, then the name.
    static func address(_ name: String) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { path in
            for (i, byte) in name.utf8.prefix(path.count - 1).enumerated() { path[i + 1] = byte }
        }
        return address
    }

    static func length(_ name: String) -> socklen_t { socklen_t(MemoryLayout<sa_family_t>.size + 1 + name.utf8.count) }
}
