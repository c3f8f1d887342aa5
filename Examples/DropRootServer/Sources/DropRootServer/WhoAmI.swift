import Hummingbird

/// The answer of `GET /whoami`: the ids of three threads that took part in the request,
/// each read by that thread itself from `/proc/thread-self/status`.
struct WhoAmI: ResponseEncodable, Sendable {
    /// Read on the connection's event loop thread (`NIO-SGLTN-…`: NIO's singleton event loops).
    var eventLoop: KernelThreadView
    /// Read on a thread of NIO's blocking pool (`SGLTN-TP-#…`).
    var blockingPool: KernelThreadView
    /// Read on the thread that ran the route handler: Hummingbird runs handlers in Swift
    /// concurrency tasks, so on Linux this is a thread of the concurrency pool
    /// (`com.apple.root…`, cut to 15 bytes by the kernel).
    var handler: KernelThreadView
}
