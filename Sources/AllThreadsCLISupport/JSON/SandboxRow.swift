import AllThreads

/// A sandbox in the CLI's JSON: `abi` (the Landlock ABI negotiated with), `file_system`,
/// `network`, `scopes` and `seccomp` (each `enforced`, `not requested`, `partially enforced (…)`
/// or `not enforced (…)`), `missing_paths` (ignored because they do not exist) and `proofs` (the
/// checks every thread passed in the stop) and `process_wide_domain`.
package struct SandboxRow: Encodable, Sendable {
    /// The `abi` value.
    package var abi: Int
    /// The `file_system` value.
    package var fileSystem: String
    /// The `network` value.
    package var network: String
    /// The `scopes` value.
    package var scopes: String
    /// The `seccomp` value.
    package var seccomp: String
    /// The `missing_paths` value.
    package var missingPaths: [String]
    /// The `proofs` value.
    package var proofs: [String]
    /// The `process_wide_domain` value: one Landlock domain for the process (TSYNC), not one per thread.
    package var processWideDomain: Bool

    /// The row of `report`.
    package init(_ report: SandboxReport) {
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
