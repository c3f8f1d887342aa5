import AllThreads

/// A sandbox in the CLI's JSON: `abi` (the Landlock ABI negotiated with), `file_system`,
/// `network`, `scopes` and `seccomp` (each `enforced`, `not requested`, `partially enforced (…)`
/// or `not enforced (…)`), `missing_paths` (ignored because they do not exist) and `proofs` (the
/// checks every thread passed in the stop) and `process_wide_domain`.
public struct SandboxRow: Encodable, Sendable {
    /// The `abi` value.
    public var abi: Int
    /// The `file_system` value.
    public var fileSystem: String
    /// The `network` value.
    public var network: String
    /// The `scopes` value.
    public var scopes: String
    /// The `seccomp` value.
    public var seccomp: String
    /// The `missing_paths` value.
    public var missingPaths: [String]
    /// The `proofs` value.
    public var proofs: [String]
    /// The `process_wide_domain` value: one Landlock domain for the process (TSYNC), not one per thread.
    public var processWideDomain: Bool

    /// The row of `report`.
    public init(_ report: SandboxReport) {
        abi = report.abi
        fileSystem = report.fileSystem.description
        network = report.network.description
        scopes = report.scopes.description
        seccomp = report.seccomp.description
        missingPaths = report.missingPaths
        proofs = report.proofs
        processWideDomain = report.processWideDomain
    }
}
