import Glibc
import SystemPackage

extension SeccompFilter {
    /// Parses a filter from its text format, as the CLI's `seccomp FILE` reads it.
    ///
    /// One statement per line; words are separated by spaces or tabs:
    ///
    /// ```text
    /// # Lines starting with '#' and blank lines are ignored.
    /// default ACTION          exactly one: what calls without a rule do
    /// SYSCALL ACTION          one rule: calls to SYSCALL (a name, such as ptrace) get ACTION
    /// @GROUP ACTION           one rule for every member of a group (such as @mount) on this machine
    /// ```
    ///
    /// `ACTION` is `allow`, `log`, `trap`, `kill-process`, `kill-thread`, or `errno VALUE`
    /// where `VALUE` is a number in 1...4094 or a name such as `EPERM`, `EACCES` or `ENOSYS`
    /// (the common errno names, in any case). For example:
    ///
    /// ```text
    /// default allow
    /// ptrace errno EPERM
    /// uname errno 38
    /// @mount errno EPERM
    /// @module kill-process
    /// ```
    ///
    /// The groups are ``Group/all``. The text gets every check of ``validate()`` except
    /// compiling: each system call must be known to libseccomp for the native architecture,
    /// each group must exist, at most one rule per call (a group's rule is a rule for each of
    /// its members), and no rule with the default action. ``description`` writes this format back.
    ///
    /// - Parameters:
    ///   - text: the filter in the text format: a `default ACTION` line, then one `SYSCALL ACTION` line per rule.
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` naming the line and what is wrong,
    ///   such as `line 3: unknown system call 'fork2' (…)`, `line 4: unknown group '@mounts'; …` or
    ///   `line 5: a second default line; the first is line 1`.
    public init(parsing text: String) throws(AllThreadsError) {
        var defaultAction: Action?
        var defaultLine = 0
        var rules: [Rule] = []
        var ruleLines: [Int] = []
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        for (index, line) in lines.enumerated() {
            let number = index + 1
            let words = line.split { $0 == " " || $0 == "\t" }
            guard let first = words.first, !first.hasPrefix("#") else { continue }
            if first == "default" {
                let action = try Self.action(words.dropFirst(), line: number, subject: "default")
                guard defaultAction == nil else {
                    throw .invalidArgument("line \(number): a second default line; the first is line \(defaultLine)")
                }
                defaultAction = action
                defaultLine = number
            } else {
                let name = String(first)
                if let problem = Self.nameProblem(name) {
                    throw .invalidArgument("line \(number): \(problem)")
                }
                rules.append(Rule(name, try Self.action(words.dropFirst(), line: number, subject: "'\(name)'")))
                ruleLines.append(number)
            }
        }
        guard let defaultAction else {
            let hasStatements = !rules.isEmpty
            throw .invalidArgument(
                hasStatements
                    ? "no 'default ACTION' line; exactly one is needed"
                    : "the filter text is empty: it needs a 'default ACTION' line")
        }
        let filter = SeccompFilter(defaultAction: defaultAction, rules: rules)
        _ = try filter.resolved(location: { "line \(ruleLines[$0])" }, defaultLocation: "line \(defaultLine)")
        self = filter
    }

    /// The list of actions, for messages.
    static let actionSyntax = "allow, log, trap, kill-process, kill-thread or errno NAME-OR-NUMBER"

    /// Parses the action words of line `line`; `subject` names what the action is for.
    static func action(_ words: ArraySlice<Substring>, line: Int, subject: String) throws(AllThreadsError) -> Action {
        guard let keyword = words.first else {
            throw .invalidArgument("line \(line): \(subject) needs an action: \(actionSyntax)")
        }
        let action: Action
        var used = 1
        switch keyword {
        case "allow": action = .allow
        case "log": action = .log
        case "trap": action = .trap
        case "kill-process": action = .killProcess
        case "kill-thread": action = .killThread
        case "errno":
            guard let value = words.dropFirst().first else {
                throw .invalidArgument("line \(line): errno needs a value: a number in \(errnoRangeText) or a name such as EPERM")
            }
            action = .errno(try errno(value, line: line))
            used = 2
        default:
            throw .invalidArgument("line \(line): unknown action '\(keyword)'; expected \(actionSyntax)")
        }
        let extra = words.dropFirst(used)
        guard extra.isEmpty else {
            throw .invalidArgument(
                "line \(line): unexpected '\(extra.joined(separator: " "))' after the action (comments go on lines of their own)")
        }
        return action
    }

    /// Parses an errno value: a decimal number in 1...4094 or a name from ``errnoNames``.
    static func errno(_ word: Substring, line: Int) throws(AllThreadsError) -> Errno {
        if word.utf8.allSatisfy(ProcText.isDigit) {
            // Long digit strings are out of range too; they are not parsed to avoid overflow.
            guard word.utf8.count <= 9, let value = CInt(word), errnoRange.contains(value) else {
                throw .invalidArgument(
                    "line \(line): errno \(word) is out of range \(errnoRangeText)")
            }
            return Errno(rawValue: value)
        }
        guard let value = errnoValues[word.uppercased()] else {
            throw .invalidArgument(
                "line \(line): unknown errno name '\(word)'; use a number in \(errnoRangeText) or a name such as EPERM, EACCES or ENOSYS")
        }
        return Errno(rawValue: value)
    }

    /// The errno names the text format knows, canonical names before their aliases.
    static let errnoNames: [(name: String, value: CInt)] = [
        ("EPERM", EPERM), ("ENOENT", ENOENT), ("ESRCH", ESRCH), ("EINTR", EINTR), ("EIO", EIO),
        ("ENXIO", ENXIO), ("E2BIG", E2BIG), ("ENOEXEC", ENOEXEC), ("EBADF", EBADF), ("ECHILD", ECHILD),
        ("EAGAIN", EAGAIN), ("ENOMEM", ENOMEM), ("EACCES", EACCES), ("EFAULT", EFAULT), ("EBUSY", EBUSY),
        ("EEXIST", EEXIST), ("EXDEV", EXDEV), ("ENODEV", ENODEV), ("ENOTDIR", ENOTDIR), ("EISDIR", EISDIR),
        ("EINVAL", EINVAL), ("ENFILE", ENFILE), ("EMFILE", EMFILE), ("ENOTTY", ENOTTY), ("ETXTBSY", ETXTBSY),
        ("EFBIG", EFBIG), ("ENOSPC", ENOSPC), ("ESPIPE", ESPIPE), ("EROFS", EROFS), ("EMLINK", EMLINK),
        ("EPIPE", EPIPE), ("EDOM", EDOM), ("ERANGE", ERANGE), ("EDEADLK", EDEADLK),
        ("ENAMETOOLONG", ENAMETOOLONG), ("ENOLCK", ENOLCK), ("ENOSYS", ENOSYS), ("ENOTEMPTY", ENOTEMPTY),
        ("ELOOP", ELOOP), ("ENODATA", ENODATA), ("EOVERFLOW", EOVERFLOW), ("ENOTSOCK", ENOTSOCK),
        ("EPROTONOSUPPORT", EPROTONOSUPPORT), ("EOPNOTSUPP", EOPNOTSUPP), ("EAFNOSUPPORT", EAFNOSUPPORT),
        ("EADDRINUSE", EADDRINUSE), ("ENETUNREACH", ENETUNREACH), ("ECONNRESET", ECONNRESET),
        ("ENOTCONN", ENOTCONN), ("ETIMEDOUT", ETIMEDOUT), ("ECONNREFUSED", ECONNREFUSED),
        ("EHOSTUNREACH", EHOSTUNREACH), ("ECANCELED", ECANCELED),
        // Aliases: the same numbers on Linux.
        ("EWOULDBLOCK", EWOULDBLOCK), ("EDEADLOCK", EDEADLOCK), ("ENOTSUP", ENOTSUP),
    ]

    /// Errno values by name.
    static let errnoValues: [String: CInt] = Dictionary(errnoNames.map { ($0.name, $0.value) }) { first, _ in first }

    /// The canonical name of each value in ``errnoNames``.
    static let errnoNamesByValue: [CInt: String] = Dictionary(errnoNames.map { ($0.value, $0.name) }) { first, _ in first }
}

extension SeccompFilter: CustomStringConvertible {
    /// The filter in the text format of ``init(parsing:)``: the default line, then one line per rule.
    public var description: String {
        (["default \(defaultAction)"] + rules.map(\.description)).map { $0 + "\n" }.joined()
    }
}

extension SeccompFilter.Rule: CustomStringConvertible {
    /// The rule as a line of the text format, such as `ptrace errno EPERM`.
    public var description: String { "\(syscall) \(action)" }
}

extension SeccompFilter.Action: CustomStringConvertible {
    /// The action as the text format writes it: `allow`, `kill-process`, `errno EPERM`, `errno 4000`.
    public var description: String {
        switch self {
        case .allow: "allow"
        case .log: "log"
        case .trap: "trap"
        case .killProcess: "kill-process"
        case .killThread: "kill-thread"
        case .errno(let error): "errno \(SeccompFilter.errnoNamesByValue[error.rawValue] ?? String(error.rawValue))"
        }
    }
}
