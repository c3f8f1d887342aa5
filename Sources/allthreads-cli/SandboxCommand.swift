import AllThreads
import AllThreadsCLISupport
import ArgumentParser
import SystemPackage

/// `allthreads sandbox [--ro P] [--rox P] [--rw P] [--rwx P] [--bind-tcp N] [--connect-tcp N] [--user U ...] -- COMMAND`:
/// a Landlock sandbox and a credential drop on every thread, with landrun's flag meanings.
struct SandboxCommand: ChangeCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Sandbox every thread with Landlock (files, TCP ports) and no_new_privs, in one stop, proven on every thread.",
        discussion: """
            The flags mean what they mean in landrun. Each path flag takes a file or a directory \
            (rights beneath it), and may be repeated or given a comma-separated list. Everything \
            the flags do not grant is denied: reading, writing and executing files, and binding \
            and connecting TCP ports (Landlock ABI 4 or later), unless --unrestricted-filesystem \
            or --unrestricted-network. A path that does not exist is an error (nothing changed) \
            unless --ignore-missing.

            The kernel's Landlock ABI may lack a right (ABI 3: no TCP rules; ABI 2: no truncate; \
            ABI 4: no ioctl_dev): strict by default (refused, nothing changed); --best-effort \
            enforces what the kernel has.

            In the one stop, every thread sets no_new_privs, enters the domain, and runs proof \
            steps whose results must agree on every thread: '/' cannot be listed (unless \
            granted), a granted directory can, a port not granted refuses bind and connect with \
            EACCES. A thread that disagrees is named and the command fails. Each thread gets a \
            Landlock domain of its own, with the same rules, below Linux 7.0 (Landlock ABI 8); \
            there, run as root, allthreads enters one domain for the whole process with \
            LANDLOCK_RESTRICT_SELF_TSYNC just before the stop.

            --user (with the options of 'allthreads drop': --group, --groups, --init-groups, \
            --keep-caps, ...) drops the credentials in the same stop, after the Landlock steps, \
            and proves the drop as 'allthreads drop' does: setuid(0) and setgid(0) fail on every \
            thread, and every thread is read back from /proc, which the sandbox must therefore \
            let it read: grant --ro /proc. --seccomp FILE loads a filter on every thread last. \
            Resource limits are process-wide: set them with ulimit or prlimit before, no \
            broadcast needed.

            --profile FILE reads the whole sandbox from a file, checked before anything \
            changes; an error names the line and the field. One field per line, named as the \
            flags: 'ro PATH', 'rox PATH', 'rw PATH', 'rwx PATH' (one absolute path each), \
            'bind-tcp PORTS', 'connect-tcp PORTS', 'scope abstract-unix-socket,signal', \
            'best-effort', 'ignore-missing', 'unrestricted-filesystem', 'unrestricted-network', \
            'user U', 'group G', 'groups LIST', 'clear-groups', 'init-groups', 'keep-caps LIST', \
            'keep-root-equivalent-caps LIST', 'keep-bounding-set', and 'seccomp LINE' (a line of \
            the seccomp filter format; together they are the filter); '#' starts a comment.

            The command after '--' must be executable under the sandbox: grant its program and \
            libraries (--rox /usr covers Debian's /bin and /lib). --verify reads /proc after the \
            sandbox: grant --ro /proc with it.

            Examples:
              allthreads sandbox --rox /usr --ro /etc -- cat /etc/hostname
              allthreads sandbox --rox /usr --rw /tmp --connect-tcp 443 -- sh -c 'echo ok > /tmp/x'
              allthreads sandbox --rox /usr --bind-tcp 8080 --best-effort -- python3 -m http.server 8080
              allthreads sandbox --user nobody --rox /usr --ro /proc --seccomp filter.txt -- id -u
              allthreads sandbox --profile server.profile -- ./server
            """ + ChangeOptions.commandHelp)

    @Option(help: ArgumentHelp("Allow reading files and listing directories beneath these paths.", valueName: "paths"))
    var ro: [String] = []

    @Option(help: ArgumentHelp("Allow reading and executing beneath these paths.", valueName: "paths"))
    var rox: [String] = []

    @Option(help: ArgumentHelp("Allow reading and writing (create, remove, truncate) beneath these paths; not executing.", valueName: "paths"))
    var rw: [String] = []

    @Option(help: ArgumentHelp("Allow reading, writing and executing beneath these paths.", valueName: "paths"))
    var rwx: [String] = []

    @Option(help: ArgumentHelp("Allow binding TCP sockets to these ports (1-65535).", valueName: "ports"))
    var bindTcp: [String] = []

    @Option(help: ArgumentHelp("Allow connecting TCP sockets to these ports (1-65535).", valueName: "ports"))
    var connectTcp: [String] = []

    @Flag(help: "Enforce what the kernel's Landlock ABI has and drop the rest, instead of refusing.")
    var bestEffort = false

    @Flag(help: "Skip the path flags' paths that do not exist, instead of refusing.")
    var ignoreMissing = false

    @Flag(help: "Leave the file system unrestricted.")
    var unrestrictedFilesystem = false

    @Flag(help: "Leave TCP bind and connect unrestricted.")
    var unrestrictedNetwork = false

    @Option(help: ArgumentHelp("Read the sandbox from a profile file instead of the flags above and below (format: see the discussion).", valueName: "file"))
    var profile: String?

    @Option(help: ArgumentHelp("A seccomp filter file to load on every thread after the stop (format: see 'allthreads seccomp --help').", valueName: "file"))
    var seccomp: String?

    @OptionGroup(title: "Credentials (dropped in the same stop)") var credentials: CredentialOptions

    @OptionGroup var options: ChangeOptions

    func validate() throws {
        let flags = [
            !ro.isEmpty, !rox.isEmpty, !rw.isEmpty, !rwx.isEmpty, !bindTcp.isEmpty, !connectTcp.isEmpty, bestEffort, ignoreMissing,
            unrestrictedFilesystem, unrestrictedNetwork, seccomp != nil, credentials.user != nil,
        ]
        guard profile == nil || !flags.contains(true) else {
            throw ValidationError("--profile takes the whole sandbox from the file: give no rule, credential or --seccomp flag with it")
        }
    }

    func change() throws(AllThreadsError) -> ThreadChange {
        if let profile { return .sandbox(try Sandbox(contentsOfProfile: profile)) }
        var paths: [Sandbox.PathRule] = []
        for (lists, access) in [(ro, FileSystemAccess.read), (rox, .readExecute), (rw, .readWrite), (rwx, .readWriteExecute)] {
            for path in Self.split(lists) { paths.append(.init(FilePath(path), access, ignoreIfMissing: ignoreMissing)) }
        }
        var ports: [Sandbox.PortRule] = []
        for (lists, access) in [(bindTcp, NetworkAccess.bindTCP), (connectTcp, .connectTCP)] {
            for text in Self.split(lists) {
                guard let port = Int(text) else { throw .invalidArgument("'\(text)' is not a TCP port (1-65535)") }
                ports.append(.init(port, access))
            }
        }
        if unrestrictedFilesystem, !paths.isEmpty { throw .invalidArgument("--unrestricted-filesystem takes no path flags") }
        if unrestrictedNetwork, !ports.isEmpty { throw .invalidArgument("--unrestricted-network takes no port flags") }
        return .sandbox(
            try Sandbox(
                paths: paths, ports: ports, restrictingFileSystem: unrestrictedFilesystem ? [] : .all,
                restrictingNetwork: unrestrictedNetwork ? [] : .all, compatibility: bestEffort ? .bestEffort : .strict,
                seccomp: try seccomp.map { path throws(AllThreadsError) in try SeccompFilter(contentsOf: FilePath(path)) },
                credentials: try credentials.drop(noNewPrivileges: true)))
    }

    /// Each value of a repeated option, split at commas.
    private static func split(_ values: [String]) -> [String] {
        values.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    }
}
