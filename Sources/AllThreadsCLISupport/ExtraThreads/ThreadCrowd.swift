import AllThreads
import CThreadStarter
import Dispatch
import Glibc
import Synchronization

/// Threads started on demand; they live until the process exits.
///
/// ``start(count:kinds:)`` starts units round-robin over the kinds. A unit is one
/// pthread (started from C or from Swift), Dispatch work item, `concurrentPerform` iteration or
/// child task. The pthread and `dispatchQueue` units get a thread each;
/// `concurrentPerform` and `taskGroup` units share the small pools Dispatch and
/// Swift concurrency keep (about one thread per CPU), so the process gains fewer
/// threads than units when those kinds are included.
public enum ThreadCrowd {
    /// How long ``start(count:kinds:)`` waits in total for its units.
    private static let startTimeout: Duration = .seconds(30)

    /// Starts `count` units round-robin over `kinds` and returns once every unit reports
    /// that it is running; throws if one cannot start or they have not all reported within 30 s.
    ///
    /// With only pthread kinds it starts no Dispatch or Swift-concurrency threads and
    /// waits synchronously for each, so it also works in a child just forked from a
    /// threaded process. At most 1000 `dispatchQueue` units fit in one process.
    public static func start(count: Int, kinds: [ThreadKind] = ThreadKind.allCases) throws(WorkloadError) {
        guard count > 0 else { return }
        guard !kinds.isEmpty else { throw .startFailed("no thread kinds given") }
        let clock = ContinuousClock()
        let deadline = clock.now + startTimeout
        let ready = DispatchSemaphore(value: 0)
        var pending = 0
        var performUnits = 0
        var taskUnits = 0
        for index in 0..<count {
            let kind = kinds[index % kinds.count]
            switch kind {
            case .pthreadPause, .pthreadRead, .pthreadFutex, .pthreadNanosleep:
                guard clock.now < deadline else {
                    throw .startFailed("only \(index) of \(count) units started within \(startTimeout)")
                }
                _ = try checkedTid(ts_start_idle_thread(cIdle(kind)), "\(kind.rawValue) unit \(index)")
            case .swiftThread:
                try startSwiftThread("\(kind.rawValue) unit \(index)") {
                    nameCurrentThread("wl-thread")
                    ready.signal()
                    parkForever()
                }
                pending += 1
            case .dispatchQueue:
                try startDispatchQueueItem(ready)
                pending += 1
            case .concurrentPerform:
                performUnits += 1
            case .taskGroup:
                taskUnits += 1
            }
        }
        if performUnits > 0 {
            try startConcurrentPerform(iterations: performUnits, ready)
            pending += performUnits
        }
        if taskUnits > 0 {
            startTaskGroup(children: taskUnits, ready)
            pending += taskUnits
        }
        for reported in 0..<pending {
            let left = clock.now.duration(to: deadline)
            let nanoseconds = max(0, left.components.seconds * 1_000_000_000 + left.components.attoseconds / 1_000_000_000)
            if ready.wait(timeout: .now() + .nanoseconds(Int(clamping: nanoseconds))) == .timedOut {
                throw .startFailed(
                    "\(pending - reported) of \(pending) Swift-thread/Dispatch/task units did not report running within \(startTimeout)")
            }
        }
    }

    /// Adds at least `count` threads to the process, of every kind: starts `count`
    /// units over all kinds, then tops up with kinds that get a thread each, because
    /// `concurrentPerform` and `taskGroup` units share pools.
    public static func grow(by count: Int) throws(WorkloadError) {
        let before = liveThreadCount()
        try start(count: count)
        let missing = before + count - liveThreadCount()
        if missing > 0 { try start(count: missing, kinds: [.pthreadRead, .pthreadNanosleep, .swiftThread, .dispatchQueue]) }
    }

    /// Threads of this process right now (entries in /proc/self/task), or 0 if that cannot be read.
    public static func liveThreadCount() -> Int {
        (try? Procfs.numericEntries(of: "/proc/self/task").count) ?? 0
    }

    private static func cIdle(_ kind: ThreadKind) -> ts_idle {
        switch kind {
        case .pthreadRead: TS_IDLE_READ
        case .pthreadFutex: TS_IDLE_FUTEX
        case .pthreadNanosleep: TS_IDLE_NANOSLEEP
        default: TS_IDLE_PAUSE
        }
    }

    /// Starts a detached pthread with a 512 KiB stack that runs `body`, from Swift: what
    /// Foundation's `Thread` does on Linux, without linking Foundation (and ICU) into the
    /// command; `what` names the unit if it cannot start.
    private static func startSwiftThread(_ what: String, _ body: @escaping @Sendable () -> Void) throws(WorkloadError) {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setstacksize(&attributes, 512 * 1024)
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        let context = Unmanaged.passRetained(SwiftThreadBody(body)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(
            &thread, &attributes,
            { context in
                Unmanaged<SwiftThreadBody>.fromOpaque(context!).takeRetainedValue().body()
                return nil
            }, context)
        guard result == 0 else {
            Unmanaged<SwiftThreadBody>.fromOpaque(context).release()
            throw .startFailed("\(what): \(errnoText(-result))")
        }
    }

    /// `dispatchQueue` units started so far, over all calls; picks the QoS of the next one.
    private static let dispatchUnits = Atomic<Int>(0)

    /// `dispatchQueue` units per QoS class before the next class is used.
    ///
    /// Each serial queue's item runs on the overcommit pool of its QoS, which
    /// Dispatch on Linux caps at 255 threads; 250 leaves the process a little room.
    private static let dispatchUnitsPerClass = 250

    /// QoS classes for `dispatchQueue` units, in the order they are used. Each has
    /// a pool of its own (`.userInteractive` shares `.userInitiated`'s on Linux).
    private static let dispatchClasses: [DispatchQoS] = [.default, .utility, .userInitiated, .background]

    private static func startDispatchQueueItem(_ ready: DispatchSemaphore) throws(WorkloadError) {
        let capacity = dispatchUnitsPerClass * dispatchClasses.count
        let number = dispatchUnits.add(1, ordering: .relaxed).oldValue
        guard number < capacity else {
            dispatchUnits.subtract(1, ordering: .relaxed)
            throw .startFailed("dispatchQueue units are limited to \(capacity) per process (Dispatch's overcommit pools are full)")
        }
        let qos = dispatchClasses[number / dispatchUnitsPerClass]
        let queue = DispatchQueue(label: "workload.queue.\(number)", qos: qos)
        queue.async {
            ready.signal()
            parkForever()
        }
    }

    private static func startConcurrentPerform(iterations: Int, _ ready: DispatchSemaphore) throws(WorkloadError) {
        let batch = PerformBatch(total: iterations)
        try startSwiftThread("concurrentPerform") {
            nameCurrentThread("wl-perform")
            DispatchQueue.concurrentPerform(iterations: iterations) { index in
                batch.iteration(index, ready)
            }
        }
    }

    private static func startTaskGroup(children: Int, _ ready: DispatchSemaphore) {
        Task.detached {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<children {
                    group.addTask {
                        ready.signal()
                        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                            parkedQueue.sync { parkedContinuations.append(continuation) }
                        }
                    }
                }
                await group.waitForAll()
            }
        }
    }
}

/// Continuations of `taskGroup` units: kept, never resumed, so those tasks stay
/// suspended without occupying a thread (and are not reported as leaked).
/// Guarded by `parkedQueue`, a serial Dispatch queue (which ThreadSanitizer understands;
/// it cannot see the futex inside Synchronization's Mutex).
nonisolated(unsafe) private var parkedContinuations: [CheckedContinuation<Void, Never>] = []
private let parkedQueue = DispatchQueue(label: "workload.parked")

/// The closure a Swift-started pthread runs, passed through `pthread_create`'s context pointer.
private final class SwiftThreadBody {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}

/// One `concurrentPerform` call's units.
///
/// An iteration that blocked forever at once would keep its worker, and Dispatch
/// lends only about one worker per CPU, so later iterations would never start.
/// Instead each iteration reports and, unless it is among the last ones, returns
/// at once. The last ones linger briefly: once every iteration has started, the
/// lingering ones (one per worker) park forever; an iteration that lingers in
/// vain returns, freeing its worker for the next ones.
private final class PerformBatch: Sendable {
    private let total: Int
    private let started = Atomic<Int>(0)
    private let allStarted = DispatchSemaphore(value: 0)
    /// How long an iteration waits for the others before it gives its worker back.
    private static let linger: DispatchTimeInterval = .milliseconds(5)
    /// Iterations (by index, which Dispatch hands out in order) that linger: far more than workers.
    private static let lingeringTail = 64

    init(total: Int) { self.total = total }

    func iteration(_ index: Int, _ ready: DispatchSemaphore) {
        let number = started.add(1, ordering: .acquiringAndReleasing).newValue
        ready.signal()
        if number == total {
            // The last to start: release the lingering ones (at most one per worker).
            for _ in 0..<min(total, Self.lingeringTail) { allStarted.signal() }
            parkForever()
        }
        guard index >= total - Self.lingeringTail else { return }
        if allStarted.wait(timeout: .now() + Self.linger) == .success
            || started.load(ordering: .acquiring) == total
        {
            parkForever()
        }
    }
}
