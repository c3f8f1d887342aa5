import AllThreads

/// The text table `inspect` prints.
package enum ThreadTable {
    /// The columns: header and width (the last column is not padded).
    private static let columns: [(String, Int)] = [
        ("", 2), ("TID", 8), ("NAME", 16), ("S", 2), ("UID", 24), ("GID", 24), ("GROUPS", 12), ("CAPINH", 17),
        ("CAPPRM", 17), ("CAPEFF", 17), ("CAPBND", 17), ("CAPAMB", 17), ("NNP", 4), ("SECCOMP", 0),
    ]

    /// Prints the header, one row per thread, and the differing threads' fields. Thread names
    /// and ring paths are escaped (``TerminalText/escaped(_:)``): any process chooses them.
    package static func print(_ comparison: ThreadComparison) {
        let differing = Set(comparison.differences.map(\.thread.tid))
        Swift.print(row(columns.map(\.0)))
        for thread in comparison.snapshot.threads {
            let c = thread.credentials, sets = c.capabilities
            Swift.print(
                row([
                    differing.contains(thread.tid) ? "*" : " ", "\(thread.tid)", TerminalText.escaped(thread.name), String(thread.state),
                    c.uids.description, c.gids.description, c.groupList, sets.inheritable.procMask, sets.permitted.procMask,
                    sets.effective.procMask, sets.bounding.procMask, sets.ambient.procMask, c.noNewPrivs ? "1" : "0",
                    c.seccomp.description,
                ]))
        }
        let count = comparison.snapshot.threads.count
        if comparison.agree {
            Swift.print("pid \(comparison.snapshot.pid): \(count) threads, all agree")
        } else {
            let reference = comparison.reference.map { " (like tid \($0.tid))" } ?? ""
            Swift.print("pid \(comparison.snapshot.pid): \(count) threads, \(differing.count) differ from the rest\(reference), marked *:")
            for difference in comparison.differences { TerminalText.print("  \(difference)") }
        }
        for ring in comparison.snapshot.ioUringRings ?? [] { TerminalText.print("  \(ring)") }
    }

    /// The cells padded to their column widths.
    private static func row(_ cells: [String]) -> String {
        zip(cells, columns).map { cell, column in
            cell.count >= column.1 ? cell + " " : cell + String(repeating: " ", count: column.1 - cell.count)
        }.joined().trimmingSuffixSpaces()
    }
}

extension String {
    /// The text without trailing spaces.
    fileprivate func trimmingSuffixSpaces() -> String {
        String(reversed().drop { $0 == " " }.reversed())
    }
}
