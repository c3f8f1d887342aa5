/// How much of one layer of a ``Sandbox`` the kernel enforces.
public enum LayerEnforcement: Sendable, Hashable, CustomStringConvertible {
    /// The sandbox asked nothing of this layer.
    case notRequested
    /// Everything asked of this layer is enforced.
    case enforced
    /// Best effort: enforced without these rights, which the kernel's ABI lacks (names as the
    /// kernel's header spells them).
    case partiallyEnforced(missing: [String])
    /// Best effort: nothing of this layer is enforced, as the kernel's ABI lacks all of it.
    case notEnforced(missing: [String])

    /// The text that names it in messages and logs.
    public var description: String {
        switch self {
        case .notRequested: "not requested"
        case .enforced: "enforced"
        case .partiallyEnforced(let missing): "partially enforced (the kernel lacks \(missing.joined(separator: ",")))"
        case .notEnforced(let missing): "not enforced (the kernel lacks \(missing.joined(separator: ",")))"
        }
    }
}

/// What ``Sandbox/apply(options:)`` enforced and proved on every thread.
public struct SandboxReport: Sendable, Hashable, CustomStringConvertible {
    /// The Landlock ABI the negotiation used (the kernel's).
    public var abi: Int
    /// The file-system rights.
    public var fileSystem: LayerEnforcement
    /// The TCP bind and connect rights.
    public var network: LayerEnforcement
    /// The IPC scopes.
    public var scopes: LayerEnforcement
    /// The seccomp filter, loaded on every thread at once after the stop.
    public var seccomp: LayerEnforcement
    /// The paths of rules marked "ignore if missing" that did not exist, so granted nothing.
    public var missingPaths: [String]
    /// The checks every thread ran inside the stop, after entering the domain, each with the
    /// result every thread got (`openat("/") = EACCES`, …).
    public var proofs: [String]
    /// The broadcast that set no_new_privs, entered the domain and ran the proofs (and, with
    /// ``Sandbox/credentials``, dropped the credentials).
    public var broadcast: BroadcastReport
    /// With ``Sandbox/credentials``: every thread as /proc showed it after the drop, each checked
    /// as ``PrivilegeDrop/apply(options:)`` checks it; `nil` without.
    public var credentials: [ThreadState]?
    /// Whether every thread entered one domain for the whole process (Landlock ABI 8's
    /// `LANDLOCK_RESTRICT_SELF_TSYNC`), rather than a domain per thread with the same rules.
    public var processWideDomain: Bool

    /// A report; the sandbox makes it.
    init(
        abi: Int, fileSystem: LayerEnforcement, network: LayerEnforcement, scopes: LayerEnforcement, seccomp: LayerEnforcement,
        missingPaths: [String], proofs: [String], broadcast: BroadcastReport, credentials: [ThreadState]?, processWideDomain: Bool
    ) {
        self.abi = abi
        self.fileSystem = fileSystem
        self.network = network
        self.scopes = scopes
        self.seccomp = seccomp
        self.missingPaths = missingPaths
        self.proofs = proofs
        self.broadcast = broadcast
        self.credentials = credentials
        self.processWideDomain = processWideDomain
    }

    /// The text that names it in messages and logs.
    public var description: String {
        "Landlock ABI \(abi), \(broadcast.threads) threads in one stop (\(processWideDomain ? "one domain for the process, LANDLOCK_RESTRICT_SELF_TSYNC" : "a domain per thread")): file system \(fileSystem); "
            + "network \(network); scopes \(scopes); seccomp \(seccomp); no_new_privs set; "
            + (credentials.map { "credentials dropped, /proc shows \($0.count) threads each as the drop promises; " } ?? "")
            + "proven on every thread: \(proofs.isEmpty ? "nothing" : proofs.joined(separator: "; "))"
    }
}
