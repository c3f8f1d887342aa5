import Dispatch
import Glibc

/// Never signalled: every parked Swift-side unit waits on it for the rest of the process.
private let neverSignalled = DispatchSemaphore(value: 0)

/// Blocks the calling thread for the rest of the process.
func parkForever() -> Never {
    while true { neverSignalled.wait() }
}

/// The text for a negative CThreadStarter (or test fixture) return value (`-errno`).
package func errnoText(_ negated: Int32) -> String {
    let code = -negated
    return "\(String(cString: strerror(code))) (errno \(code))"
}

/// Turns a CThreadStarter (or test fixture) tid-or-`-errno` result into a tid, or throws naming `what`.
package func checkedTid(_ result: Int32, _ what: String) throws(WorkloadError) -> Int32 {
    guard result > 0 else { throw .startFailed("\(what): \(errnoText(result))") }
    return result
}

/// Names the calling thread (its comm) for /proc and failure reports; best effort.
///
/// The name is written to /proc/thread-self/comm, which names exactly the calling
/// thread (Foundation's `Thread.name` races with the thread's start on Linux).
func nameCurrentThread(_ name: String) {
    let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else { return }
    defer { close(fd) }
    var bytes = Array(name.utf8.prefix(15))
    _ = write(fd, &bytes, bytes.count)
}
