import AllThreads
import AllThreadsCLISupport
import Foundation

/// What a change command prints: one line of JSON, or a summary for people.
struct ChangeOutput: Encodable {
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

    private enum CodingKeys: String, CodingKey {
        case command, ok, threadsStarted = "threads_started", change, verify, verification
        case verificationError = "verification_error", exec
    }

    private enum ExecKeys: String, CodingKey { case path, arguments }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(command, forKey: .command)
        try container.encode(ok, forKey: .ok)
        try container.encode(threadsStarted, forKey: .threadsStarted)
        try container.encode(record, forKey: .change)
        try container.encode(verifyRequested, forKey: .verify)
        try container.encode(verification, forKey: .verification)
        try container.encode(verificationError?.description, forKey: .verificationError)
        if let exec {
            var nested = container.nestedContainer(keyedBy: ExecKeys.self, forKey: .exec)
            try nested.encode(exec.path, forKey: .path)
            try nested.encode(exec.arguments, forKey: .arguments)
        } else {
            try container.encodeNil(forKey: .exec)
        }
    }

    /// Prints the JSON line, or the summary for people. When `quiet` (a command follows and
    /// its output is the output, as with setpriv and gosu) the summary goes to standard error,
    /// and only when `--verify` asked for the proof.
    func print(json: Bool, quiet: Bool = false) {
        if json {
            JSONLine.print(self)
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
