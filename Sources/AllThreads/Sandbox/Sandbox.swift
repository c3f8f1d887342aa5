import CBroadcast
import Glibc
import SystemPackage

/// A sandbox for a running process: Landlock file-system rules, TCP port rules and IPC scopes,
/// no_new_privs and optionally a seccomp filter, on every thread, in one stop, proven on every
/// thread in the same stop.
///
/// ```swift
/// let sandbox = try Sandbox(
///     paths: [.init("/usr", .readExecute), .init("/tmp", .readWrite)],
///     ports: [.init(443, .connectTCP)],
///     compatibility: .bestEffort)
/// let report = try sandbox.apply()
/// print(report)  // what is enforced per layer, and what every thread proved
/// ```
///
/// ``apply(options:)`` first negotiates with the kernel's Landlock ABI (strict: refuse a right
/// the kernel lacks; best effort: drop it and say so in the ``SandboxReport``), opens every path
/// (`O_PATH`), builds the ruleset and refuses while the process holds an io_uring ring; any
/// problem there is an error before any thread changed.
/// Then one broadcast runs, on every thread, `prctl(PR_SET_NO_NEW_PRIVS)`,
/// `landlock_restrict_self` with the one ruleset, and the proof steps: system calls whose result
/// shows the domain (`openat` of `/`, not granted, gives `EACCES`; an allowed directory opened with
/// `O_DIRECT` still gives the file system's `EINVAL`; `bind` and `connect` of a listening socket
/// give `EACCES` for a port not granted and `EINVAL` / `EISCONN` for a granted one; an executable
/// file of a rule passes `execveat(AT_EXECVE_CHECK)` when `execute` is granted on it, and fails it
/// with `EACCES` when no rule on it or on a directory above it grants `execute`; with scopes, signal
/// 0 to the parent process and `connect` to an abstract socket made before the sandbox give
/// `EPERM`). Every proof step is chosen so that it creates no descriptor and changes nothing (the
/// execute check, like any `execve`, makes an open of that file for writing elsewhere fail with
/// `ETXTBSY` while it runs), and
/// (but for that `connect`, which would connect) it is run on the calling thread first, before the
/// sandbox, to learn what "allowed" returns there; every thread's result is compared with the
/// expected one by the engine, and a thread that disagrees is named
/// (``AllThreadsError/Code/stepMismatch``). The seccomp filter, if any, is loaded last, on every
/// thread at once (`SECCOMP_FILTER_FLAG_TSYNC`).
///
/// Not proven in the stop, as no call shows it without a side effect: writing (an open for writing
/// fails with `ETXTBSY` before Landlock's check while the file runs anywhere, and makes every
/// `execve` of it fail meanwhile; `mkdirat` fails with `EROFS` or `ENOENT` before the check on some
/// file systems, and would make the directory where allowed), and reading a file whose file
/// system accepts `O_DIRECT` (the open would succeed and give each thread a descriptor). The
/// report lists exactly what was proven (``SandboxReport/proofs``).
///
/// Domains: below Landlock ABI 8 `landlock_restrict_self` restricts the calling thread only, so
/// each thread enforces the ruleset itself and gets a Landlock domain of its own, with the same
/// rules. The file-system and network rules are the same on every thread; the scopes are not
/// transparent: with ``LandlockScope/abstractUnixSocket`` or ``LandlockScope/signal``, a thread's
/// domain is not its sibling's, so a thread cannot reach an abstract socket a sibling bound
/// afterwards (signals between threads of one process stay allowed). Linux 7.0
/// (ABI 8) adds `LANDLOCK_RESTRICT_SELF_TSYNC`: there, when the calling thread holds
/// `CAP_SYS_ADMIN`, the caller enforces the ruleset with it after every check and just before
/// the stop, and the kernel puts every thread in one domain for the whole process, all or none
/// (``SandboxReport/processWideDomain``); the stop then sets no_new_privs, drops and runs the
/// same proofs on every thread. Without `CAP_SYS_ADMIN` the caller would need no_new_privs
/// first, a change to one thread only, so every thread enters the domain in the stop instead.
///
/// Relaxed mode (``BroadcastMode/relaxed``): a thread cloned during the broadcast by one that had
/// already run the steps runs them again, and so enters a second, identical domain (Landlock
/// nests at most 16 domains per thread).
///
/// Landlock restricts what is opened, bound or connected from now on: descriptors open before
/// the sandbox keep their access. Close what the sandboxed code must not use before applying it.
///
/// Credentials (``credentials``): a ``PrivilegeDrop`` runs in the same stop, its steps after the
/// Landlock steps and proofs (which so run, and were checked, with the caller's credentials from
/// before; Landlock binds root too): groups, gid, bounding set, uid, kept capabilities,
/// no_new_privs, and `setuid(0)` and `setgid(0)` that must fail on every thread. Then, as
/// ``PrivilegeDrop/apply(options:)`` does, the seccomp filter loads and every thread is read back
/// from /proc, from inside the domain: the rules must grant reading `/proc/self` (a rule on
/// `/proc`), or the sandbox is refused before anything changes. Drop, domain and proofs share one
/// program of at most ``BroadcastProgram/maxSteps`` steps: the proofs take what the drop leaves.
///
/// ```swift
/// let server = try Sandbox(
///     paths: [.init("/srv/www", .read), .init("/proc", .read)],
///     seccomp: try SeccompFilter(parsing: "default allow\n@mount errno EPERM\n"),
///     credentials: try PrivilegeDrop(user: "nobody", groups: []))
/// let dropped = try server.apply()
/// print(dropped.credentials?.count ?? 0, "threads dropped, as /proc shows")
/// ```
///
/// Per thread, and so in the broadcast: the credentials (ids, groups, capability sets, the
/// bounding set), no_new_privs and, below ABI 8, the Landlock domain. Process-wide, with no
/// broadcast: resource limits (`setrlimit` in any one thread changes them for the whole
/// process: set them before or after), and the seccomp filter, which the kernel installs on
/// every thread at once (`SECCOMP_FILTER_FLAG_TSYNC`).
public struct Sandbox: Sendable, Hashable {
    /// Rights granted beneath a path (for a file that is not a directory: on that file, keeping
    /// only ``FileSystemAccess/fileRights``).
    public struct PathRule: Sendable, Hashable {
        /// The file or directory.
        public var path: FilePath
        /// What is granted on it and beneath it.
        public var access: FileSystemAccess
        /// Whether a path that does not exist is skipped (and named in the report) rather than refused.
        public var ignoreIfMissing: Bool

        /// Grants `access` beneath `path`.
        ///
        /// - Parameters:
        ///   - path: the file or directory (opened when the sandbox is applied).
        ///   - access: the rights granted on it and beneath it.
        ///   - ignoreIfMissing: skip the rule, rather than refuse the sandbox, when the path does not exist.
        public init(_ path: FilePath, _ access: FileSystemAccess, ignoreIfMissing: Bool = false) {
            self.path = path
            self.access = access
            self.ignoreIfMissing = ignoreIfMissing
        }
    }

    /// TCP rights granted on a port.
    public struct PortRule: Sendable, Hashable {
        /// The port, 1...65535.
        public var port: Int
        /// ``NetworkAccess/bindTCP``, ``NetworkAccess/connectTCP`` or both.
        public var access: NetworkAccess

        /// Grants `access` on `port`.
        ///
        /// - Parameters:
        ///   - port: the TCP port, 1...65535 (checked by ``Sandbox/init(paths:ports:restrictingFileSystem:restrictingNetwork:scopes:compatibility:seccomp:credentials:)``).
        ///   - access: the rights granted on it.
        public init(_ port: Int, _ access: NetworkAccess) {
            self.port = port
            self.access = access
        }
    }

    /// What to do when the kernel's Landlock ABI lacks a requested right.
    public enum Compatibility: Sendable, Hashable {
        /// Refuse, before anything changes (``AllThreadsError/Code/landlockUnsupported``).
        case strict
        /// Enforce what the kernel has, and report the rest as not enforced.
        case bestEffort
    }

    /// The path rules.
    public var paths: [PathRule]
    /// The port rules.
    public var ports: [PortRule]
    /// The file-system rights the sandbox restricts: each is denied wherever no rule grants it.
    public var restrictedFileSystem: FileSystemAccess
    /// The network rights the sandbox restricts: each is denied on every port no rule grants it on.
    public var restrictedNetwork: NetworkAccess
    /// The IPC scopes.
    public var scopes: LandlockScope
    /// Strict or best effort.
    public var compatibility: Compatibility
    /// A seccomp filter to load on every thread after the stop.
    public var seccomp: SeccompFilter?
    /// A credential drop (user, groups, gid, bounding set, kept capabilities) made in the same
    /// stop, after the Landlock steps, and proven as ``PrivilegeDrop/apply(options:)`` proves it;
    /// its no_new_privs is always set, and its seccomp filter must be `nil` (give it to the sandbox).
    /// An io_uring ring is refused whatever its ``PrivilegeDrop/ioUringPolicy``: the ring's
    /// workers would act outside the domain.
    public var credentials: PrivilegeDrop?

    /// Validates a sandbox; nothing changes, and no file is opened (``apply(options:)`` opens them).
    ///
    /// - Parameters:
    ///   - paths: rights granted beneath paths.
    ///   - ports: rights granted on TCP ports.
    ///   - restrictingFileSystem: the file-system rights denied where no rule grants them
    ///     (default: all of them).
    ///   - restrictingNetwork: the network rights denied on ports no rule grants (default: the
    ///     rights the port rules name; none without port rules).
    ///   - scopes: IPC scopes.
    ///   - compatibility: strict (default) or best effort.
    ///   - seccomp: a filter to load last (validated now).
    ///   - credentials: a credential drop made in the same stop (``credentials``); without a
    ///     seccomp filter of its own.
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` naming the rule: an empty or unknown
    ///   right, a right a rule grants that the sandbox does not restrict, an empty path or one with
    ///   a NUL byte, a port outside 1...65535; a credential drop with a seccomp filter of its own;
    ///   or the filter's and the drop's own errors.
    public init(
        paths: [PathRule] = [], ports: [PortRule] = [], restrictingFileSystem: FileSystemAccess = .all,
        restrictingNetwork: NetworkAccess? = nil, scopes: LandlockScope = [], compatibility: Compatibility = .strict,
        seccomp: SeccompFilter? = nil, credentials: PrivilegeDrop? = nil
    ) throws(AllThreadsError) {
        self.paths = paths
        self.ports = ports
        self.restrictedFileSystem = restrictingFileSystem
        self.restrictedNetwork = restrictingNetwork ?? ports.reduce(into: NetworkAccess()) { $0.formUnion($1.access) }
        self.scopes = scopes
        self.compatibility = compatibility
        self.seccomp = seccomp
        self.credentials = credentials
        try validate()
    }

    /// Checks what needs no file system: rights, ports, paths' spelling, the filter.
    func validate() throws(AllThreadsError) {
        guard restrictedFileSystem.minimumABI < .max else { throw .invalidArgument("restricted file-system rights: \(restrictedFileSystem)") }
        guard restrictedNetwork.isSubset(of: .all) else { throw .invalidArgument("restricted network rights: \(restrictedNetwork)") }
        guard scopes.isSubset(of: .all) else { throw .invalidArgument("scopes: \(scopes)") }
        for (i, rule) in paths.enumerated() {
            let which = "path rule \(i + 1) (\(Self.quoted(rule.path.description)))"
            guard !rule.path.isEmpty, !rule.path.description.utf8.contains(0) else { throw .invalidArgument("\(which): the path is empty or holds a NUL byte") }
            guard !rule.access.isEmpty else { throw .invalidArgument("\(which) grants no right") }
            guard rule.access.minimumABI < .max else { throw .invalidArgument("\(which): \(rule.access)") }
            guard rule.access.isSubset(of: restrictedFileSystem) else {
                throw .invalidArgument("\(which) grants \(rule.access.subtracting(restrictedFileSystem)), which the sandbox does not restrict")
            }
        }
        for (i, rule) in ports.enumerated() {
            let which = "port rule \(i + 1) (port \(rule.port))"
            guard (1...65535).contains(rule.port) else { throw .invalidArgument("\(which): a TCP port is 1...65535") }
            guard !rule.access.isEmpty, rule.access.isSubset(of: .all) else { throw .invalidArgument("\(which) grants \(rule.access)") }
            guard rule.access.isSubset(of: restrictedNetwork) else {
                throw .invalidArgument("\(which) grants \(rule.access.subtracting(restrictedNetwork)), which the sandbox does not restrict")
            }
        }
        try seccomp?.validate()
        if let credentials {
            guard credentials.seccomp == nil else {
                throw .invalidArgument("the credential drop has a seccomp filter of its own: give the filter to the sandbox, which loads it last")
            }
            try composedDrop?.validate()
        }
    }

    /// The credential drop as it runs in the sandbox's stop: with no_new_privs, and with the
    /// sandbox's seccomp filter, which it loads after the stop and proves from /proc.
    var composedDrop: PrivilegeDrop? {
        guard var drop = credentials else { return nil }
        drop.noNewPrivileges = true
        drop.seccomp = seccomp
        return drop
    }

    /// Applies the sandbox to every thread in one stop and proves it there.
    ///
    /// - Parameters:
    ///   - options: the broadcast's deadline, signal, mode and mismatch policy.
    /// - Returns: per layer, what is enforced; the proofs every thread passed.
    /// - Throws: before any thread changed: ``AllThreadsError/Code/argumentRejected`` for a path that
    ///   cannot be opened (unless ignored if missing) or a rule the kernel refuses;
    ///   ``AllThreadsError/Code/privilegeRetained`` while the process holds an
    ///   io_uring ring (its threads and personalities keep the credentials from before, and so act
    ///   outside the domain);
    ///   ``AllThreadsError/Code/landlockUnsupported`` (strict);
    ///   ``AllThreadsError/Code/setupFailed`` when strict and the kernel has no Landlock; the
    ///   broadcast's own errors (an unreachable thread: no thread changed). After every thread
    ///   entered the domain: ``AllThreadsError/Code/stepFailed`` or
    ///   ``AllThreadsError/Code/stepMismatch`` for a proof that failed (naming each thread),
    ///   ``AllThreadsError/Code/failedAfterChange`` when the seccomp filter did not load, and for
    ///   any error of the stop once the kernel has put every thread in one domain
    ///   (``SandboxReport/processWideDomain``).
    @discardableResult
    public func apply(options: BroadcastOptions = BroadcastOptions()) throws(AllThreadsError) -> SandboxReport {
        try apply(options: options, assumingABI: nil)
    }

    /// ``apply(options:)`` negotiating with `abi` instead of the kernel's ABI: how the tests ask
    /// for what an older kernel lacks, and for ABI 8's process-wide domain (which a kernel below
    /// it then refuses: `EINVAL`, nothing changed).
    package func apply(options: BroadcastOptions, assumingABI: Int?) throws(AllThreadsError) -> SandboxReport {
        try validate()
        var abi: Int
        do { abi = try Landlock.abiVersion() } catch {
            guard compatibility == .bestEffort else { throw error }
            abi = 0
        }
        if let assumed = assumingABI { abi = max(assumed, 0) }
        let negotiated = try negotiate(abi: abi)
        try Self.refuseIoUringRings()
        var ruleset = try LandlockRuleset(self, negotiated: negotiated)
        defer { ruleset.close() }
        var program = BroadcastProgram.setNoNewPrivileges()
        // ABI 8: one domain for the process, entered by every thread at once through the kernel
        // (TSYNC) just before the stop, when the caller may (CAP_SYS_ADMIN: no_new_privs on the
        // caller alone would be a change to one thread); else a step of the stop on every thread.
        var processWide = false
        if negotiated.processWideDomain, ruleset.descriptor != nil {
            processWide = try Capabilities.callerCapabilities().effective.contains(.sysAdmin)
        }
        if let fd = ruleset.descriptor, !processWide {
            program += try .landlockRestrictSelf(ruleset: fd)
        }
        var entered = false
        let enterDomain = { () throws(AllThreadsError) in
            if processWide, let fd = ruleset.descriptor {
                try Landlock.restrictProcess(ruleset: fd)
                entered = true
            }
        }
        // The drop's steps, and the io_uring context step it ends with, share the stop's steps.
        let dropSteps = composedDrop.map { $0.program.steps.count + 1 } ?? 0
        let room = BroadcastProgram.maxSteps - program.steps.count - dropSteps
        guard room >= 0 else {
            throw .invalidArgument("the credential drop takes \(dropSteps) steps: with the sandbox's, more than one stop's \(BroadcastProgram.maxSteps)")
        }
        if composedDrop != nil { try ruleset.requireReadable("/proc/self", for: "the credential drop's proof reads it") }
        let proof = ruleset.proofSteps(limit: room)
        program += BroadcastProgram(proof.map(\.step))
        let broadcast: BroadcastReport
        var dropProof: [ThreadState]?
        do throws(AllThreadsError) {
            if let drop = composedDrop {
                let (snapshot, reports, _) = try drop.applyReporting(options: options, leading: program, beforeChange: enterDomain)
                // One stop: the steps were counted above to fit in one broadcast.
                broadcast = reports[0]
                dropProof = snapshot.threads
            } else {
                try enterDomain()
                broadcast = try Broadcast.run(program, options: options)
                if let seccomp {
                    do { try seccomp.loadOnAllThreads() } catch { throw .failedAfterChange(error) }
                }
            }
        } catch {
            // Once the kernel put every thread in the domain (TSYNC), even an error that says
            // nothing changed (an unreachable thread in the stop) comes after a change.
            if !entered { throw error }
            switch error.kind {
            case .failedAfterChange, .proofFailed, .privilegeRetained(_, threadsChanged: true), .stepFailed, .stepMismatch: throw error
            default: throw .failedAfterChange(error)
            }
        }
        return SandboxReport(
            abi: abi, fileSystem: negotiated.fileSystemLayer, network: negotiated.networkLayer, scopes: negotiated.scopesLayer,
            seccomp: seccomp == nil ? .notRequested : .enforced, missingPaths: ruleset.missingPaths, proofs: proof.map(\.description),
            broadcast: broadcast, credentials: dropProof, processWideDomain: processWide)
    }

    /// A Landlock domain is part of the credentials: an io_uring ring's SQPOLL thread, its io-wq
    /// workers and its registered personalities keep the credentials they took before the
    /// sandbox, so a ring could open what the sandbox denies. Refused before anything changes.
    private static func refuseIoUringRings() throws(AllThreadsError) {
        let rings: [IoUringRing]
        do throws(ProcfsError) { rings = try IoUringRing.current() } catch { throw .procfs(error) }
        guard rings.isEmpty else { throw .privilegeRetained(rings.map { .ioUringRing($0) }, threadsChanged: false) }
    }

    /// Quotes a path for a message: escapes control characters, so a hostile name cannot forge lines.
    static func quoted(_ text: String) -> String {
        "\"" + text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? "\\u{\(String($0.value, radix: 16))}" : String($0) }.joined() + "\""
    }
}
