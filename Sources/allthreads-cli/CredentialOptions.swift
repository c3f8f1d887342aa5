import AllThreads
import AllThreadsCLISupport
import ArgumentParser
import SystemPackage

/// The credential options of `drop` and `sandbox`: the user, groups and capabilities to keep.
struct CredentialOptions: ParsableArguments {
    @Option(help: "The user to become: a name or a uid with an entry in the password database.")
    var user: String?

    @Option(help: "The group to become (default: the user's primary group).")
    var group: String?

    @Option(help: ArgumentHelp("Supplementary groups, names or gids separated by commas; '' for none.", valueName: "groups"))
    var groups: String?

    @Flag(help: "Hold no supplementary groups (the default).")
    var clearGroups = false

    @Flag(help: "Take the supplementary groups the user has in the group database.")
    var initGroups = false

    @Option(help: ArgumentHelp("Capabilities to keep (permitted, effective, inheritable and ambient).", valueName: "capabilities"))
    var keepCaps: String?

    @Option(
        help: ArgumentHelp(
            "Root-equivalent capabilities to keep as well (cap_chown, cap_dac_override, cap_fowner, cap_sys_admin, ...; see docs/security.md): --keep-caps refuses them.",
            valueName: "capabilities"))
    var keepRootEquivalentCaps: String?

    @Flag(help: "Leave the bounding set as it is (as setpriv and gosu do); by default it is reduced to the kept capabilities.")
    var keepBoundingSet = false

    func validate() throws {
        let choices = [groups != nil, clearGroups, initGroups].filter { $0 }.count
        guard choices <= 1 else { throw ValidationError("give only one of --groups, --clear-groups and --init-groups") }
        let others = [group != nil, choices > 0, keepCaps != nil, keepRootEquivalentCaps != nil, keepBoundingSet]
        guard user != nil || !others.contains(true) else {
            throw ValidationError(
                "--group, --groups, --clear-groups, --init-groups, --keep-caps, --keep-root-equivalent-caps and --keep-bounding-set need --user")
        }
    }

    /// The drop these options ask for, `nil` without `--user`.
    ///
    /// - Parameters:
    ///   - noNewPrivileges: set no_new_privs.
    ///   - seccomp: a filter to load last.
    ///   - ioUringPolicy: refuse or accept the io_uring rings that exist.
    func drop(noNewPrivileges: Bool, seccomp: SeccompFilter? = nil, ioUringPolicy: IoUringPolicy = .refuse) throws(AllThreadsError) -> PrivilegeDrop? {
        guard let user else { return nil }
        let supplementary = initGroups ? nil : try GroupID.list(parsing: groups ?? "")
        let disguised = try keepRootEquivalentCaps.map { text throws(AllThreadsError) in try CapabilitySet(parsing: text) } ?? []
        return try PrivilegeDrop(
            user: try Account.lookUp(user), group: try group.map { text throws(AllThreadsError) in try Account.groupID(parsing: text) },
            groups: supplementary,
            keepCapabilities: (try keepCaps.map { text throws(AllThreadsError) in try CapabilitySet(parsing: text) } ?? []).union(disguised),
            allowingRootEquivalentCapabilities: disguised,
            dropBoundingSet: !keepBoundingSet, noNewPrivileges: noNewPrivileges, seccomp: seccomp, ioUringPolicy: ioUringPolicy)
    }
}
