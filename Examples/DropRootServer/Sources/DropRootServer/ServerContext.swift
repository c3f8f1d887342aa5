import Hummingbird
import NIOCore

/// The request context: Hummingbird's core storage plus the event loop that owns the
/// request's connection, so a route can run code on that event loop thread.
struct ServerContext: RequestContext {
    /// Hummingbird's own per-request storage.
    var coreContext: CoreRequestContextStorage
    /// The event loop of the connection the request arrived on.
    let eventLoop: any EventLoop

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.eventLoop = source.channel.eventLoop
    }
}
