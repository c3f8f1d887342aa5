import Glibc

/// A task of another process that a thread of ours traces (`TracerPid:`), and whose credentials
/// differ from a privilege drop's target. `ptrace` keeps the rights the tracer had when it
/// attached: after the drop the tracer still reads and writes the tracee's memory and registers,
/// so a root tracee is root in the tracer's hands.
public struct TracedProcess: Sendable, Hashable, CustomStringConvertible {
    /// The traced task.
    public var tracee: ThreadIdentity
    /// Our thread that traces it.
    public var tracer: Int32
    /// Its credentials against the target's (``ThreadCredentials/actingDifferences(from:)``).
    public var differences: [FieldDifference]

    /// Describes a traced task.
    ///
    /// - Parameters:
    ///   - tracee: the traced task.
    ///   - tracer: the tid of our thread that traces it.
    ///   - differences: the fields that differ from the drop's target.
    package init(tracee: ThreadIdentity, tracer: Int32, differences: [FieldDifference]) {
        self.tracee = tracee
        self.tracer = tracer
        self.differences = differences
    }

    /// Such as `tid 900 (sleep), traced by our tid 811: uid 0/0/0/0, expected 65534/65534/65534/65534`.
    public var description: String {
        "\(tracee), traced by our tid \(tracer): " + differences.map(\.description).joined(separator: ", ")
    }

    /// `__WALL`: wait for children and tracees of every kind.
    private static let waitAll: Int32 = 0x4000_0000

    /// False when the kernel says no thread of the calling process has a child or a tracee:
    /// `waitid(P_ALL, WNOHANG | WNOWAIT)` without `__WNOTHREAD` looks at every thread's children
    /// and tracees, and fails with `ECHILD` only when there are none. It reaps nothing and
    /// consumes no state change. True on any other answer (a child, a filter that forbids the call).
    static func mayExist() -> Bool {
        var info = siginfo_t()
        let options = WNOHANG | WNOWAIT | WEXITED | WSTOPPED | WCONTINUED | waitAll
        return waitid(P_ALL, 0, &info, options) == 0 || errno != ECHILD
    }

    /// The tasks of every process in `/proc` that one of `tracers` traces. Tasks that exit
    /// meanwhile, and processes `/proc` hides (`hidepid`), are left out.
    ///
    /// Reads every task's `status` once (about 9 ms for the 100 tasks of a small VM, debug build).
    static func find(tracers: Set<Int32>) throws(ProcfsError) -> [(tracee: ThreadState, tracer: Int32)] {
        var found: [(tracee: ThreadState, tracer: Int32)] = []
        for pid in try Procfs.numericEntries(of: "/proc") {
            let tids: [Int32]
            do throws(ProcfsError) { tids = try Procfs.numericEntries(of: "/proc/\(pid)/task") } catch { continue }
            for tid in tids where !tracers.contains(tid) {
                let status: [UInt8]
                do throws(ProcfsError) { status = try Procfs.read("/proc/\(pid)/task/\(tid)/status") } catch { continue }
                guard let text = Procfs.value(of: "TracerPid", in: status), let tracer = ProcText.decimal(text, max: UInt64(Int32.max)),
                    tracers.contains(Int32(tracer))
                else { continue }
                do throws(ProcfsError) {
                    found.append((try ThreadState.read(pid: pid, tid: tid), Int32(tracer)))
                } catch {
                    guard error.taskIsGone else { throw error }
                }
            }
        }
        return found
    }
}
