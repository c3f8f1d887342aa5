import AllThreads
import FoundationEssentials

/// The one-line summaries printed for people.
package enum Summary {
    /// The most items a list in a message shows.
    package static let listLimit = 10

    /// Items separated by `; `, at most ``listLimit`` of them, then how many more.
    package static func list(_ items: [String]) -> String {
        let shown = items.prefix(listLimit).joined(separator: "; ")
        return items.count > listLimit ? shown + "; and \(items.count - listLimit) more" : shown
    }

    /// A duration in milliseconds, such as `0.412 ms`.
    package static func milliseconds(_ duration: Duration) -> String {
        // Rounded to the microsecond in integers: String(format:) is in Foundation, not FoundationEssentials.
        let (seconds, attoseconds) = duration.components
        let microseconds = seconds * 1_000_000 + (attoseconds + 500_000_000_000) / 1_000_000_000_000
        let fraction = String(Int(microseconds % 1000))
        return "\(microseconds / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction) ms"
    }

    /// Such as `setuid(65534): 1 broadcast(s), 66 threads, 1 round(s), 0.412 ms`; a drop's checks
    /// (io_uring probes) are counted apart: `1 broadcast(s) (+2 for checks)`.
    package static func change(_ record: ChangeRecord) -> String {
        let checks = record.broadcasts - record.reports.count
        var parts = ["\(record.reports.count) broadcast(s)" + (checks > 0 ? " (+\(checks) for checks)" : "")]
        // A seccomp load reports no broadcast.
        if let threads = record.reports.map(\.threads).max() {
            parts += ["\(threads) threads", "\(record.rounds) round(s)"]
        }
        parts.append(milliseconds(record.elapsed))
        let skipped = Set(record.reports.flatMap(\.skipped).map(\.description)).sorted()
        if !skipped.isEmpty { parts.append("skipped " + list(skipped)) }
        let accepted = record.acceptedIoUringRings.map(\.description) + record.acceptedIoUringRegistrations.map(\.description)
        if !accepted.isEmpty { parts.append("accepted " + list(accepted)) }
        if let sandbox = record.sandbox {
            parts.append(
                "Landlock ABI \(sandbox.abi): file system \(sandbox.fileSystem), network \(sandbox.network), scopes \(sandbox.scopes), "
                    + "\(sandbox.proofs.count) proof(s) passed on every thread, "
                    + (sandbox.processWideDomain ? "one domain for the process (TSYNC)" : "a domain per thread"))
            if !sandbox.missingPaths.isEmpty { parts.append("missing, ignored: " + list(sandbox.missingPaths)) }
        }
        return "\(record.change): " + parts.joined(separator: ", ")
    }

    /// Such as `verified from /proc: all 66 threads agree with tid 1234 on credentials`.
    package static func verified(_ comparison: ThreadComparison) -> String {
        "verified from /proc: all \(comparison.checkedThreads) threads agree with tid \(comparison.reference?.tid ?? 0) on \(comparison.aspects)"
    }
}

/// Printing values as one line of JSON.
package enum JSONLine {
    /// Prints `value` as one line of JSON with sorted, snake_case keys (the rows' synthesized
    /// `Encodable` names them in camelCase). Every character a terminal may act on is a
    /// `\u` escape (``TerminalText/escapedJSON(_:)``).
    package static func print(_ value: some Encodable) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        do {
            Swift.print(TerminalText.escapedJSON(String(decoding: try encoder.encode(value), as: UTF8.self)))
        } catch {
            StandardError.line("allthreads: could not encode the JSON result: \(error)")
        }
    }
}
