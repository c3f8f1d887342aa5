import AllThreads

/// What a change command prints: one line of JSON (``Row``), or a summary for people.
package struct ChangeOutput {
    /// The subcommand, such as `setuid`.
    package var command: String
    /// Extra threads started before the change.
    package var threadsStarted: Int
    /// What the change did.
    package var record: ChangeRecord
    /// Whether `--verify` was given.
    package var verifyRequested: Bool
    /// The command to execute afterwards.
    package var exec: ExecCommand?
    /// Every thread compared with the caller after the change; `nil` until verified.
    package var verification: ThreadComparison?
    /// Why the threads could not be read back.
    package var verificationError: AllThreadsError?

    /// The output of a change, not yet verified.
    package init(command: String, threadsStarted: Int, record: ChangeRecord, verifyRequested: Bool, exec: ExecCommand?) {
        self.command = command
        self.threadsStarted = threadsStarted
        self.record = record
        self.verifyRequested = verifyRequested
        self.exec = exec
    }

    /// The failure `--verify` reports, if any: one line naming the threads and fields.
    package var verificationFailure: String? {
        guard verifyRequested else { return nil }
        if let verificationError { return "verification failed: \(verificationError)" }
        guard let verification, !verification.agree else { return nil }
        return "verification failed: \(verification.differences.count) of \(verification.checkedThreads) threads differ: "
            + Summary.list(verification.differences.map(\.description))
    }

    /// True unless the change failed or a requested verification did.
    package var ok: Bool { record.error == nil && verificationFailure == nil }

    /// The JSON line: `command`, `ok`, `threads_started`, `change`, `verify`, `verification`
    /// (`null` until verified), `verification_error` and `exec` (`path`, `arguments`), `null` when none.
    package struct Row: Encodable {
        struct Exec: Encodable {
            var path: String
            var arguments: [String]
        }

        var command: String
        var ok: Bool
        var threadsStarted: Int
        var change: ChangeRow
        var verify: Bool
        @Nullable var verification: ComparisonRow?
        @Nullable var verificationError: String?
        @Nullable var exec: Exec?
    }

    package var row: Row {
        Row(
            command: command, ok: ok, threadsStarted: threadsStarted, change: ChangeRow(record), verify: verifyRequested,
            verification: verification.map(ComparisonRow.init), verificationError: verificationError?.description,
            exec: exec.map { Row.Exec(path: $0.path, arguments: $0.arguments) })
    }

    /// Prints the JSON line, or the summary for people. When `quiet` (a command follows and
    /// its output is the output, as with setpriv and gosu) the summary goes to standard error,
    /// and only when `--verify` asked for the proof, or a best-effort sandbox left something
    /// unenforced.
    package func print(json: Bool, quiet: Bool = false) {
        let unenforced =
            record.sandbox.map { s in
                [s.fileSystem, s.network, s.scopes, s.seccomp].contains { $0 != .enforced && $0 != .notRequested }
            } ?? false
        if json {
            JSONLine.print(row)
        } else if record.error == nil, !quiet || verifyRequested || unenforced {
            var lines = [Summary.change(record)]
            if let verification, verificationFailure == nil, verifyRequested {
                lines.append(Summary.verified(verification))
            }
            for line in lines {
                if quiet { StandardError.line(line) } else { TerminalText.print(line) }
            }
        }
    }
}
