import AllThreads
import Glibc
import SystemPackage

/// `allthreads inspect --all --prometheus FILE`: the host audit in Prometheus's text exposition
/// format, for node_exporter's textfile collector.
///
/// Every metric is a gauge (the audit is a snapshot, not a count since start, so no `_total`),
/// with HELP and TYPE lines. The host totals carry no label and are always present, so that
/// `allthreads_processes_divergent > 0` alerts and `== 0` clears; the `allthreads_command_*`
/// families break the same counts down by the process's `comm` (one series per name that has
/// any, none while every process agrees).
package enum PrometheusTextfile {
    /// One metric family: its name, HELP text, and samples (label value, value); a `nil`
    /// label value is a sample without the `comm` label.
    private struct Family {
        var name: String
        var help: String
        var samples: [(comm: String?, value: Int)]
    }

    /// The exposition text of `audit`, one family after the other, the per-command samples in
    /// the order of their names.
    package static func text(_ audit: HostAudit) -> String {
        var divergentProcesses: [String: Int] = [:]
        var divergentThreads: [String: Int] = [:]
        var unreadableProcesses: [String: Int] = [:]
        for process in audit.divergent {
            divergentProcesses[process.name, default: 0] += 1
            divergentThreads[process.name, default: 0] += process.comparison.differences.count
        }
        for process in audit.unreadable { unreadableProcesses[process.name ?? "", default: 0] += 1 }
        let differ = "credentials, capabilities, no_new_privs or seccomp mode differ from those most threads of their process have"
        let families = [
            Family(name: "allthreads_processes_checked", help: "Processes whose threads were read and compared.", samples: [(nil, audit.checkedProcesses)]),
            Family(
                name: "allthreads_processes_vanished", help: "Processes that exited while they were read (left out).",
                samples: [(nil, audit.vanishedProcesses)]),
            Family(
                name: "allthreads_processes_divergent", help: "Processes in which some thread's \(differ).", samples: [(nil, audit.divergent.count)]),
            Family(
                name: "allthreads_threads_divergent", help: "Threads whose \(differ).",
                samples: [(nil, audit.divergent.reduce(0) { $0 + $1.comparison.differences.count })]),
            Family(
                name: "allthreads_processes_unreadable", help: "Processes that could not be read: nothing is said to agree for them.",
                samples: [(nil, audit.unreadable.count)]),
            Family(
                name: "allthreads_command_processes_divergent", help: "allthreads_processes_divergent by the process's comm.",
                samples: bySortedName(divergentProcesses)),
            Family(
                name: "allthreads_command_threads_divergent", help: "allthreads_threads_divergent by the process's comm.",
                samples: bySortedName(divergentThreads)),
            Family(
                name: "allthreads_command_processes_unreadable",
                help: "allthreads_processes_unreadable by the process's comm (empty when it could not be read either).",
                samples: bySortedName(unreadableProcesses)),
        ]
        var text = ""
        for family in families {
            text += "# HELP \(family.name) \(family.help)\n# TYPE \(family.name) gauge\n"
            for sample in family.samples {
                let labels = sample.comm.map { "{comm=\"\(labelValue($0))\"}" } ?? ""
                text += "\(family.name)\(labels) \(sample.value)\n"
            }
        }
        return text
    }

    private static func bySortedName(_ counts: [String: Int]) -> [(comm: String?, value: Int)] {
        counts.sorted { Array($0.key.utf8).lexicographicallyPrecedes($1.key.utf8) }.map { ($0.key, $0.value) }
    }

    /// `value` as the text between a label's double quotes: the exposition format's only escapes,
    /// `\\`, `\"` and `\n`. Every other character, escape codes included, is valid there as it
    /// is (a Swift string is UTF-8, bytes that were not are U+FFFD already), so a hostile
    /// `comm` can neither end the value, nor the line, nor forge a sample.
    package static func labelValue(_ value: String) -> String {
        var escaped = ""
        for character in value.unicodeScalars {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }

    /// Replaces `path` with `text` atomically, as the textfile collector asks: a new file (mode
    /// 0644 whatever the umask, so that node_exporter's user reads it) in the same directory,
    /// under a hidden name that does not end in `.prom`, written, flushed with `fsync`, then
    /// renamed over `path`, and the directory flushed. A collector reads the old file or the new
    /// one, never a part. On failure the new file is removed and `path` is left as it was.
    ///
    /// - Throws: the `Errno` of the call that failed.
    package static func write(_ text: String, to path: FilePath) throws(Errno) {
        let directory = path.removingLastComponent()
        let name = path.lastComponent?.string ?? ""
        let temporary = directory.appending(".\(name).\(String(UInt64.random(in: .min ... .max), radix: 16)).tmp")
        let file: FileDescriptor
        do {
            file = try FileDescriptor.open(
                temporary, .writeOnly, options: [.create, .exclusiveCreate, .closeOnExec, .noFollow],
                permissions: [.ownerReadWrite, .groupRead, .otherRead])
        } catch {
            throw error as? Errno ?? .ioError
        }
        do {
            try file.closeAfter {
                // 0644 whatever the umask: node_exporter runs as a user of its own.
                guard fchmod(file.rawValue, 0o644) == 0 else { throw Errno(rawValue: errno) }
                _ = try file.writeAll(text.utf8)
                guard fsync(file.rawValue) == 0 else { throw Errno(rawValue: errno) }
            }
            guard rename(temporary.string, path.string) == 0 else { throw Errno(rawValue: errno) }
        } catch {
            _ = unlink(temporary.string)
            throw error as? Errno ?? .ioError
        }
        try synchronize(directory)
    }

    /// Flushes `directory`'s entries, so that the rename survives a crash.
    private static func synchronize(_ directory: FilePath) throws(Errno) {
        let descriptor = open(directory.isEmpty ? "." : directory.string, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Errno(rawValue: errno) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw Errno(rawValue: errno) }
    }
}
