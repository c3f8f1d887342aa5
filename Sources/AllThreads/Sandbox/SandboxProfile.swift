import Glibc
import SystemPackage

/// The profile format of ``Sandbox/init(profile:)``: one field per line, named as the flags of
/// `allthreads sandbox`, each checked where it stands so that an error names its line and field.
struct SandboxProfile {
    /// What a line of the profile says.
    private enum Field: String, CaseIterable {
        case ro, rox, rw, rwx
        case bindTCP = "bind-tcp", connectTCP = "connect-tcp", scope
        case bestEffort = "best-effort", ignoreMissing = "ignore-missing"
        case unrestrictedFilesystem = "unrestricted-filesystem", unrestrictedNetwork = "unrestricted-network"
        case user, group, groups, clearGroups = "clear-groups", initGroups = "init-groups"
        case keepCaps = "keep-caps", keepRootEquivalentCaps = "keep-root-equivalent-caps", keepBoundingSet = "keep-bounding-set"
        case seccomp

        /// The rights a path field grants.
        var access: FileSystemAccess? {
            switch self {
            case .ro: .read
            case .rox: .readExecute
            case .rw: .readWrite
            case .rwx: .readWriteExecute
            default: nil
            }
        }

        /// The right a port field grants.
        var network: NetworkAccess? {
            switch self {
            case .bindTCP: .bindTCP
            case .connectTCP: .connectTCP
            default: nil
            }
        }

        /// A field that takes no value and may appear once.
        var isFlag: Bool {
            [.bestEffort, .ignoreMissing, .unrestrictedFilesystem, .unrestrictedNetwork, .clearGroups, .initGroups, .keepBoundingSet].contains(self)
        }

        /// A field that may appear on several lines.
        var repeats: Bool { access != nil || network != nil || self == .scope || self == .seccomp }
    }

    /// An error on line `line`, about `field` (when the line names one).
    private static func error(_ line: Int, _ field: String?, _ message: String) -> AllThreadsError {
        .invalidArgument("line \(line): " + (field.map { "field '\($0)': " } ?? "") + message)
    }

    /// Parses and validates `text`; see ``Sandbox/init(profile:)``.
    static func sandbox(parsing text: String) throws(AllThreadsError) -> Sandbox {
        var paths: [(rule: Sandbox.PathRule, line: Int, field: Field)] = []
        var ports: [(rule: Sandbox.PortRule, line: Int, field: Field)] = []
        var scopes = LandlockScope()
        var single: [Field: (value: String, line: Int)] = [:]
        var seccompLines: [String] = []
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        for (index, raw) in lines.enumerated() {
            let number = index + 1
            let line = raw.drop { $0 == " " || $0 == "\t" }
            guard !line.isEmpty, line.first != "#" else { continue }
            let name = String(line.prefix { $0 != " " && $0 != "\t" })
            let value = line.dropFirst(name.count).trimmingSpaces
            guard let field = Field(rawValue: name) else {
                throw error(number, nil, "unknown field \(Sandbox.quoted(name)); the fields are \(Field.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if field.isFlag {
                guard value.isEmpty else { throw error(number, name, "takes no value, not \(Sandbox.quoted(value))") }
            } else if value.isEmpty {
                throw error(number, name, "needs a value")
            }
            if !field.repeats {
                if let first = single[field] { throw error(number, name, "given twice; the first is line \(first.line)") }
                single[field] = (value, number)
            }
            if let access = field.access {
                let path = FilePath(value)
                guard path.isAbsolute, !value.utf8.contains(0) else { throw error(number, name, "\(Sandbox.quoted(value)) is not an absolute path") }
                let normal = path.lexicallyNormalized()
                if let first = paths.first(where: { $0.rule.path == normal }) {
                    throw error(number, name, "\(Sandbox.quoted(normal.description)) is already granted on line \(first.line) ('\(first.field.rawValue)')")
                }
                paths.append((Sandbox.PathRule(normal, access), number, field))
            } else if let right = field.network {
                for item in value.split(separator: ",", omittingEmptySubsequences: false) {
                    let text = item.trimmingSpaces
                    guard let port = Int(text), (1...65535).contains(port) else {
                        throw error(number, name, "\(Sandbox.quoted(text)) is not a TCP port (1-65535)")
                    }
                    if let first = ports.first(where: { $0.rule.port == port && $0.field == field }) {
                        throw error(number, name, "port \(port) is already granted on line \(first.line)")
                    }
                    ports.append((Sandbox.PortRule(port, right), number, field))
                }
            } else if field == .scope {
                for item in value.split(separator: ",", omittingEmptySubsequences: false) {
                    let text = item.trimmingSpaces
                    let scope: LandlockScope
                    switch String(text.map { $0 == "-" ? "_" : $0 }) {
                    case "abstract_unix_socket": scope = .abstractUnixSocket
                    case "signal": scope = .signal
                    default: throw error(number, name, "\(Sandbox.quoted(text)) is not a scope: abstract-unix-socket or signal")
                    }
                    guard !scopes.contains(scope) else { throw error(number, name, "\(Sandbox.quoted(text)) is given twice") }
                    scopes.formUnion(scope)
                }
            } else if field == .seccomp {
                seccompLines.append(value)
                continue
            }
            // Keeps the seccomp filter's line numbers the profile's.
            seccompLines.append("")
        }
        let ignoreMissing = single[.ignoreMissing] != nil
        for (rule, line, field) in paths {
            if let flag = single[.unrestrictedFilesystem] { throw error(line, field.rawValue, "the file system is unrestricted (line \(flag.line))") }
            guard ignoreMissing || access(rule.path.description, F_OK) == 0 else {
                throw error(line, field.rawValue, "\(Sandbox.quoted(rule.path.description)) cannot be opened: \(Errno(rawValue: errno))")
            }
        }
        if let (_, line, field) = ports.first, let flag = single[.unrestrictedNetwork] {
            throw error(line, field.rawValue, "the network is unrestricted (line \(flag.line))")
        }
        let seccomp = try seccompFilter(seccompLines)
        let credentials = try drop(single)
        do throws(AllThreadsError) {
            return try Sandbox(
                paths: paths.map {
                    var rule = $0.rule; rule.ignoreIfMissing = ignoreMissing; return rule
                }, ports: ports.map(\.rule),
                restrictingFileSystem: single[.unrestrictedFilesystem] == nil ? .all : [],
                restrictingNetwork: single[.unrestrictedNetwork] == nil ? .all : [], scopes: scopes,
                compatibility: single[.bestEffort] == nil ? .strict : .bestEffort, seccomp: seccomp, credentials: credentials)
        } catch {
            guard case .invalidArgument(let message) = error.kind else { throw error }
            throw .invalidArgument("the profile as a whole: \(message)")
        }
    }

    /// The filter of the `seccomp` lines (`lines` holds one entry per line of the profile, empty
    /// but for those), or `nil` without any.
    private static func seccompFilter(_ lines: [String]) throws(AllThreadsError) -> SeccompFilter? {
        guard lines.contains(where: { !$0.isEmpty }) else { return nil }
        do throws(AllThreadsError) {
            let filter = try SeccompFilter(parsing: lines.joined(separator: "\n"))
            try filter.validate()
            return filter
        } catch {
            // The filter's own "line N: …" is the profile's line N.
            guard case .invalidArgument(let message) = error.kind else { throw error }
            if message.hasPrefix("line "), let colon = message.firstIndex(of: ":") {
                throw .invalidArgument(message[..<colon] + ": field 'seccomp'" + message[colon...])
            }
            throw .invalidArgument("field 'seccomp': \(message)")
        }
    }

    /// The credential drop of the `user` line and those that qualify it; `nil` without a user.
    private static func drop(_ single: [Field: (value: String, line: Int)]) throws(AllThreadsError) -> PrivilegeDrop? {
        let qualifiers: [Field] = [.group, .groups, .clearGroups, .initGroups, .keepCaps, .keepRootEquivalentCaps, .keepBoundingSet]
        guard single[.user] != nil else {
            if let (field, given) = qualifiers.compactMap({ field in single[field].map { (field, $0) } }).min(by: { $0.1.line < $1.1.line }) {
                throw error(given.line, field.rawValue, "needs a 'user' line")
            }
            return nil
        }
        let choices = [Field.groups, .clearGroups, .initGroups].compactMap { field in single[field].map { (field: field, line: $0.line) } }
        if choices.count > 1, let later = choices.max(by: { $0.line < $1.line }) {
            throw error(later.line, later.field.rawValue, "give only one of groups, clear-groups and init-groups")
        }
        /// Runs `body`, naming `field`'s line in its error.
        func at<T>(_ field: Field, _ body: (String) throws(AllThreadsError) -> T) throws(AllThreadsError) -> T? {
            guard let given = single[field] else { return nil }
            do throws(AllThreadsError) { return try body(given.value) } catch {
                guard case .invalidArgument(let message) = error.kind else { throw error }
                throw Self.error(given.line, field.rawValue, message)
            }
        }
        guard let account = try at(.user, { text throws(AllThreadsError) in try Account.lookUp(text) }) else { return nil }
        let group = try at(.group) { text throws(AllThreadsError) in try Account.groupID(parsing: text) }
        let groups = single[.initGroups] != nil ? nil : try at(.groups) { text throws(AllThreadsError) in try GroupID.list(parsing: text) } ?? []
        let disguised = try at(.keepRootEquivalentCaps) { text throws(AllThreadsError) in try CapabilitySet(parsing: text) } ?? []
        let kept = try at(.keepCaps) { text throws(AllThreadsError) in try CapabilitySet(parsing: text) } ?? []
        // A combination the drop refuses: named at the capabilities' line, or else the user's.
        let blamed: Field = single[.keepCaps] != nil ? .keepCaps : .user
        return try at(blamed) { _ throws(AllThreadsError) in
            try PrivilegeDrop(
                user: account, group: group, groups: groups, keepCapabilities: kept.union(disguised),
                allowingRootEquivalentCapabilities: disguised, dropBoundingSet: single[.keepBoundingSet] == nil, noNewPrivileges: true)
        }
    }
}

extension Substring {
    /// Without the spaces and tabs around it.
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}

extension Sandbox {
    /// Reads a sandbox profile: one field per line, named as the flags of `allthreads sandbox`;
    /// `#` starts a comment line. Everything is checked before anything changes, and an error
    /// names the line and the field.
    ///
    /// ```
    /// # /etc/myserver/sandbox.profile
    /// ro /srv/www
    /// rox /usr
    /// ro /proc
    /// rw /var/lib/myserver
    /// connect-tcp 5432
    /// scope abstract-unix-socket, signal
    /// best-effort
    /// user nobody
    /// seccomp default allow
    /// seccomp @mount errno EPERM
    /// ```
    ///
    /// The fields:
    /// - `ro`, `rox`, `rw`, `rwx` PATH: an absolute path, one per line, granted read
    ///   (``FileSystemAccess/read``), read and execute, read and write, or all three; each path
    ///   once (lexically: `/usr/` is `/usr`).
    /// - `bind-tcp`, `connect-tcp` PORT[, PORT…]: TCP ports, 1-65535, each once per field.
    /// - `scope` `abstract-unix-socket` and/or `signal` (``LandlockScope``).
    /// - `best-effort`, `ignore-missing` (every path that does not exist is skipped),
    ///   `unrestricted-filesystem`, `unrestricted-network`: no value.
    /// - `user` NAME|UID, with `group`, `groups` LIST (none without it), `clear-groups`,
    ///   `init-groups`, `keep-caps` LIST, `keep-root-equivalent-caps` LIST, `keep-bounding-set`:
    ///   a ``credentials`` drop, as `allthreads drop` takes them; with no_new_privs.
    /// - `seccomp` LINE: a line of the seccomp filter format (``SeccompFilter/init(parsing:)``);
    ///   the `seccomp` lines together are the filter.
    ///
    /// - Parameters:
    ///   - text: the profile.
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` starting with `line N: field 'NAME': `:
    ///   an unknown field, a value where none is taken or none where one is, a path that is not
    ///   absolute or (without `ignore-missing`) does not exist, a port outside 1-65535, a path,
    ///   port, scope or single field given twice (naming the first line), a credential field
    ///   without `user`, a user, group or capability the drop refuses, a bad seccomp line.
    public init(profile text: String) throws(AllThreadsError) {
        self = try SandboxProfile.sandbox(parsing: text)
    }

    /// Reads the profile in the file at `path` (``init(profile:)``); changes nothing.
    ///
    /// - Parameters:
    ///   - path: the profile's file.
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` starting with the path: the file cannot
    ///   be read, is not UTF-8, or holds a bad line (`server.profile: line 3: field 'bind-tcp': …`).
    public init(contentsOfProfile path: String) throws(AllThreadsError) {
        self = try ConfigurationFile.parse(path, label: Self.quoted(path), named: Self.quoted(path), what: "the sandbox profile") {
            text throws(AllThreadsError) in
            try Sandbox(profile: text)
        }
    }
}
