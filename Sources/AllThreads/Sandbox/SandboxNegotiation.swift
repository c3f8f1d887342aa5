/// A ``Sandbox`` negotiated with a Landlock ABI: what the ruleset handles, and the report's layers.
package struct SandboxNegotiation: Sendable, Hashable {
    /// The file-system rights the ruleset handles.
    package var fileSystem: FileSystemAccess
    /// The network rights the ruleset handles.
    package var network: NetworkAccess
    /// The scopes the ruleset sets.
    package var scopes: LandlockScope
    /// What the report says of each layer.
    package var fileSystemLayer: LayerEnforcement
    package var networkLayer: LayerEnforcement
    package var scopesLayer: LayerEnforcement
    /// Whether the kernel gives the whole process one domain (`LANDLOCK_RESTRICT_SELF_TSYNC`, ABI 8).
    package var processWideDomain: Bool
}

extension Sandbox {
    /// Negotiates with Landlock ABI `abi` (0: no Landlock): strict refuses any right the ABI
    /// lacks, naming each with the ABI that has it; best effort keeps what the ABI has.
    package func negotiate(abi: Int) throws(AllThreadsError) -> SandboxNegotiation {
        let fileSystem = restrictedFileSystem.intersection(.supported(byABI: abi))
        let network = abi >= NetworkAccess.minimumABI ? restrictedNetwork : []
        let scopes = abi >= LandlockScope.minimumABI ? self.scopes : []
        let missingFileSystem = restrictedFileSystem.subtracting(fileSystem)
        let missing =
            missingFileSystem.namesWithABI + restrictedNetwork.subtracting(network).names.map { "\($0) (ABI \(NetworkAccess.minimumABI))" }
            + self.scopes.subtracting(scopes).names.map { "scope \($0) (ABI \(LandlockScope.minimumABI))" }
        if compatibility == .strict, !missing.isEmpty { throw .landlockUnsupported(abi: abi, missing: missing) }
        return SandboxNegotiation(
            fileSystem: fileSystem, network: network, scopes: scopes,
            fileSystemLayer: Self.layer(requested: restrictedFileSystem.names, kept: fileSystem.names),
            networkLayer: Self.layer(requested: restrictedNetwork.names, kept: network.names),
            scopesLayer: Self.layer(requested: self.scopes.names, kept: scopes.names),
            processWideDomain: abi >= Landlock.processWideABI)
    }

    private static func layer(requested: [String], kept: [String]) -> LayerEnforcement {
        let missing = requested.filter { !kept.contains($0) }
        if requested.isEmpty { return .notRequested }
        if missing.isEmpty { return .enforced }
        return kept.isEmpty ? .notEnforced(missing: missing) : .partiallyEnforced(missing: missing)
    }
}
