// swift-tools-version:6.2
// A Hummingbird 2 server that binds a privileged port as root, then drops to nobody on every
// thread with AllThreads. A package of its own, so the library never depends on Hummingbird.
// Swift 6.2 or later: Hummingbird 2.28's manifest needs it (AllThreads itself needs 6.1).
import PackageDescription

let package = Package(
    name: "DropRootServer",
    dependencies: [
        // Named, because a path dependency is otherwise known by its folder's name, which is
        // whatever the clone's folder is called.
        .package(name: "AllThreads", path: "../.."),
        // No default traits: the example needs neither swift-configuration nor full Foundation,
        // and leaving them out shortens the first build.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
    ],
    targets: [
        .executableTarget(
            name: "DropRootServer",
            dependencies: [
                .product(name: "AllThreads", package: "AllThreads"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
    ]
)
