import AllThreads
import AllThreadsCLISupport
import Foundation

/// What a change command prints: one line of JSON (``Row``), or a summary for people.
struct ChangeOutput {
    /// The subcommand, such as `setuid`.
    var command: String
    /// Extra threads started before the change.
    var threadsStarted: Int
    /// What the change did.
    var record: ChangeRecord
    /// Whether `--verify` was given.
    var verifyRequested: Bool
    /// The command to execute afterwards.
    var exec: ExecCommand?
    /// Every thread compared with the caller after the change; `nil` until verified.
    var verification: ThreadComparison?
    /// Why the threads could not be read back.
    var verificationError: AllThreadsError?

    /// The failure `--verify` reports, if any: one line naming the threads and fields.
    var verificationFailure: String? {
        guard verifyRequested else { return nil }
        if let verificationError { return "verification failed: \(verificationError)" }
        guard let verification, !verification.agree else { return nil }
        return "verification failed: \(verification.differences.count) of \(verification.checkedThreads) threads differ: "
            + Summary.list(verification.differences.map(\.description))
    }

    /// True unless the change failed or a requested verification did.
    var ok: Bool { record.error == nil && verificationFailure == nil }

    /// The JSON line: `command`, `ok`, `threads_started`, `change`, `verify`, `verification`
    /// (`null` until verified), `verification_error` and `exec` (`path`, `arguments`), `null` when none.
    struct Row: Encodable {
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

    var row: Row {
        Row(
            command: command, ok: ok, threadsStarted: threadsStarted, change: ChangeRow(record), verify: verifyRequested,
            verification: verification.map(ComparisonRow.init), verificationError: verificationError?.description,
            exec: exec.map { Row.Exec(path: $0.path, arguments: $0.arguments) })
    }

    /// Prints the JSON line, or the summary for people. When `quiet` (a command follows and
    /// its output is the output, as with setpriv and gosu) the summary goes to standard error,
    /// and only when `--verify` asked for the proof.
    func print(json: Bool, quiet: Bool = false) {
        if json {
            JSONLine.print(row)
        } else if record.error == nil, !quiet || verifyRequested {
            var lines = [Summary.change(record)]
            if let verification, verificationFailure == nil, verifyRequested {
                lines.append(Summary.verified(verification))
            }
            let text = lines.joined(separator: "\n") + "\n"
            if quiet { FileHandle.standardError.write(Data(text.utf8)) } else { Swift.print(text, terminator: "") }
        }
    }
}
