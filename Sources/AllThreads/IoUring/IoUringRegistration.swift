import CBroadcast
import Glibc
import SystemPackage

/// A ring in threads' registered-ring tables (`IORING_REGISTER_RING_FDS`, which liburing's
/// `io_uring_register_ring_fd` uses): such a thread enters the ring by slot number, without a
/// file descriptor. After `io_uring_close_ring_fd`, and with the rings in the caller's memory
/// (`IORING_SETUP_NO_MMAP`), nothing in `/proc` shows the ring, so only a probe finds it.
public struct IoUringRegistration: Sendable, Hashable, CustomStringConvertible {
    /// The slot of the table (each thread has its own table).
    public var slot: Int
    /// The threads with a ring in that slot.
    public var threads: [ThreadIdentity]

    /// Describes a registration.
    ///
    /// - Parameters:
    ///   - slot: the slot in the registered-ring table.
    ///   - threads: the threads that hold a ring in that slot.
    package init(slot: Int, threads: [ThreadIdentity]) {
        self.slot = slot
        self.threads = threads
    }

    /// Such as `io_uring ring registered at slot 0 by tid 811 (main)`.
    public var description: String {
        "io_uring ring registered at slot \(slot) by \(threads.map(\.description).joined(separator: ", "))"
    }

    /// `IORING_ENTER_REGISTERED_RING` (linux/io_uring.h): the fd argument is a slot number.
    static let enterRegisteredRing = 1 << 4

    /// No kernel has as many slots (6.18 has 16); the probe stops here even if the kernel never says "past the table".
    static let maximumSlots = 64

    /// Finds the registrations of every thread of the calling process, and the threads that have
    /// used io_uring.
    ///
    /// For slot 0, 1, ... every thread runs `io_uring_enter(slot, 0, 0, IORING_ENTER_REGISTERED_RING)`,
    /// which submits and waits for nothing; its result tells: `EINVAL` (the thread never used
    /// io_uring, or the slot is past the table), `EBADF` (an empty slot), anything else (a ring
    /// there). The probe stops at the first slot where every thread got `EINVAL`: one broadcast in
    /// a process that never used io_uring.
    ///
    /// At slot 0, `EINVAL` means the thread has no io_uring context: the kernel gives a thread one
    /// at its first `io_uring_setup`, `io_uring_enter` that submits, or ring registration, keeps it
    /// until the thread exits (an `execve` ends it too), and the probe itself creates none.
    ///
    /// - Parameter threads: the threads of a recent snapshot, to name the threads that agreed with
    ///   the calling thread (a broadcast names only those that disagree).
    /// - Returns: `nil` when a thread has a seccomp filter: it might kill the process for the probe.
    /// - Throws: the broadcast's errors other than a mismatch (which tells who holds a ring).
    static func probe(threads: [ThreadState], options: BroadcastOptions) throws(AllThreadsError) -> IoUringProbe? {
        guard threads.allSatisfy({ $0.credentials.seccomp == .disabled }) else { return nil }
        var options = options
        options.onMismatch = .throwError  // disagreement is the answer here, never a reason to abort
        // A read that changes nothing: one wake-up per thread is enough (a thread born meanwhile has
        // no io_uring context, and one that runs it twice gets the same answer).
        options.mode = .relaxed
        let caller = Int32(truncatingIfNeeded: cb_syscall(Int(SYS_gettid), 0, 0, 0, 0, 0, 0))
        let running = threads.filter { !$0.runsNoCode }.map(\.identity)
        var found = IoUringProbe(registrations: [], contexts: [])
        for slot in 0..<maximumSlots {
            var callerResult: SyscallResult
            var others: [ThreadResult] = []
            do throws(AllThreadsError) {
                callerResult = try Broadcast.probe(
                    SystemCall(rawValue: Int(SYS_io_uring_enter)), slot, 0, 0, enterRegisteredRing, 0, 0, options: options)
            } catch {
                guard case .mismatch(let result, let threads) = error.kind else { throw error }
                callerResult = result
                others = threads
            }
            /// The threads whose result satisfies `test`: those named in the mismatch, and, when the
            /// caller's does, every thread the mismatch does not name (they got the caller's result).
            func threads(where test: (SyscallResult) -> Bool) -> [ThreadIdentity] {
                var matching = others.filter { $0.result.map(test) ?? false }.map { ThreadIdentity(tid: $0.tid, name: $0.name) }
                if test(callerResult) {
                    let disagreeing = Set(others.map(\.tid))
                    matching += running.filter { !disagreeing.contains($0.tid) }
                    if !matching.contains(where: { $0.tid == caller }) { matching.append(ThreadIdentity(tid: caller, name: "")) }
                }
                return matching.sorted { $0.tid < $1.tid }
            }
            if slot == 0 { found.contexts = threads { $0.errno != .invalidArgument && $0.errno != .noFunction } }
            let holders = threads(where: \.holdsRing)
            if holders.isEmpty {
                if callerResult.errno == .invalidArgument && others.allSatisfy({ $0.result?.errno == .invalidArgument }) { break }
                continue
            }
            found.registrations.append(IoUringRegistration(slot: slot, threads: holders))
        }
        return found
    }
}

extension IoUringRegistration {
    /// The probe's first step, to end another program: every thread enters slot 0 as
    /// ``probe(threads:options:)`` does, and its result is compared with the caller's.
    static var contextStep: BroadcastStep {
        BroadcastStep(SystemCall(rawValue: Int(SYS_io_uring_enter)), 0, 0, 0, enterRegisteredRing, 0, 0, expecting: .probe)
    }

    /// True when `result` of ``contextStep``, got by every thread, says none has an io_uring
    /// context (`EINVAL`, or `ENOSYS` without io_uring): then no thread has a registered ring
    /// either, and that step was the whole probe.
    static func saysNoContext(_ result: SyscallResult) -> Bool {
        result.errno == .invalidArgument || result.errno == .noFunction
    }
}

/// What ``IoUringRegistration/probe(threads:options:)`` found.
struct IoUringProbe {
    /// The rings in the threads' registered-ring tables.
    var registrations: [IoUringRegistration]
    /// The threads that have an io_uring context: they have used io_uring since they started.
    var contexts: [ThreadIdentity]
}

extension SyscallResult {
    /// For a registered-ring probe: true unless the result says there is no ring in the slot
    /// (`EINVAL`, `EBADF`, or `ENOSYS` on a kernel without io_uring).
    fileprivate var holdsRing: Bool {
        guard let errno else { return true }
        return errno != .invalidArgument && errno != .badFileDescriptor && errno != .noFunction
    }
}
