import SystemPackage

/// The security-relevant state that must be the same on every thread after a broadcast.
public struct ThreadCredentials: Sendable, Hashable {
    /// User ids.
    public var uids: IDs<UserID>
    /// Group ids.
    public var gids: IDs<GroupID>
    /// Supplementary groups, in the kernel's order (sorted).
    public var groups: [GroupID]
    /// Capability sets.
    public var capabilities: CapabilitySets
    /// `PR_SET_NO_NEW_PRIVS`.
    public var noNewPrivs: Bool
    /// Seccomp mode.
    public var seccomp: SeccompMode

    /// Creates credentials from their parts.
    ///
    /// - Parameters:
    ///   - uids: the user ids.
    ///   - gids: the group ids.
    ///   - groups: the supplementary groups.
    ///   - capabilities: the capability sets.
    ///   - noNewPrivs: whether no_new_privs is set.
    ///   - seccomp: the seccomp mode.
    public init(
        uids: IDs<UserID>, gids: IDs<GroupID>, groups: [GroupID], capabilities: CapabilitySets,
        noNewPrivs: Bool, seccomp: SeccompMode
    ) {
        self.uids = uids
        self.gids = gids
        self.groups = groups
        self.capabilities = capabilities
        self.noNewPrivs = noNewPrivs
        self.seccomp = seccomp
    }
}
