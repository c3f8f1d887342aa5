// swift-tools-version:6.1
// AllThreads runs one Linux syscall on every thread of the calling process.
// Linux (x86_64, aarch64) only. Swift 6.1 or later: swift-system 1.8's manifest needs it.
import PackageDescription

let package = Package(
    name: "AllThreads",
    products: [
        .library(name: "AllThreads", targets: ["AllThreads"]),
        .executable(name: "allthreads", targets: ["allthreads-cli"]),
    ],
    dependencies: [
        // Ranges, so that an app on another minor or patch release of these resolves too; the
        // lower bounds are the releases the tests run with.
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // `swift package generate-documentation` (scripts/docs.sh); nothing links it.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // The engine: signal handler, stop-the-world protocol, thread discovery.
        .target(name: "CBroadcast", exclude: ["model"]),
        // getauxval(AT_SECURE), which Swift's Glibc module does not import, and the release of
        // the executable's relocation table (program headers and the dynamic section, from C).
        .target(name: "CAuxiliaryVector"),
        // libseccomp, found through pkg-config (Debian: libseccomp-dev).
        .systemLibrary(
            name: "CSeccomp",
            pkgConfig: "libseccomp",
            providers: [.apt(["libseccomp-dev"])]
        ),
        .target(
            name: "AllThreads",
            dependencies: [
                "CBroadcast",
                "CSeccomp",
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // Idle threads started from C, blocked in pause, read, a futex or nanosleep: the pthreads
        // of the CLI's --threads, and the handshake the fixtures start their own threads with.
        .target(name: "CThreadStarter"),
        // What only the command line needs: changes as records, exec, the set-ID refusal, text
        // parsing of ids and calls, JSON, the extra threads of --threads (ThreadCrowd, which the
        // scenarios and the benchmark use too). A library (not a product) so unit tests reach it.
        .target(
            name: "AllThreadsCLISupport",
            dependencies: [
                "AllThreads",
                "CAuxiliaryVector",
                "CBroadcast",
                "CThreadStarter",
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .executableTarget(
            name: "allthreads-cli",
            dependencies: [
                "AllThreads",
                "AllThreadsCLISupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // Test fixtures (Tests/Fixtures), for the scenarios and the benchmark only: the shipped
        // command links none of them (scripts/test-install.sh checks its symbols).
        // Odd threads: busy loops, a signal blocker, a thread with a seccomp filter of its own.
        .target(name: "CWorkload", dependencies: ["CSeccomp", "CThreadStarter"], path: "Tests/Fixtures/CWorkload"),
        .target(name: "AllThreadsWorkload", dependencies: ["AllThreads", "CWorkload"], path: "Tests/Fixtures/AllThreadsWorkload"),
        // Faults, odd tasks, forged signals, glibc's own broadcasts, churn.
        .target(name: "CFaults", dependencies: ["CBroadcast", "CWorkload"], path: "Tests/Fixtures/CFaults"),
        .target(
            name: "AllThreadsFaults",
            dependencies: ["AllThreadsCLISupport", "CFaults", "CThreadStarter", "CWorkload"],
            path: "Tests/Fixtures/AllThreadsFaults"
        ),
        // The benchmark (Benchmarks/, run by scripts/bench.sh): ours against glibc's setresuid
        // broadcast, allocations counted. A target of this package, not a package of its own: it
        // starts its threads with the fixtures above, which no product exports.
        .target(name: "CMallocCounter", path: "Benchmarks/CMallocCounter"),
        .executableTarget(
            name: "allthreads-bench",
            dependencies: [
                "AllThreads", "AllThreadsCLISupport", "CFaults", "CMallocCounter", "CThreadStarter", "CWorkload",
            ],
            path: "Benchmarks/allthreads-bench"
        ),
        // Every Swift example of README.md, docs/ and the DocC catalog, compiled by every build and
        // never run by the tests (they drop root); ExamplesTests checks they match the text.
        .executableTarget(
            name: "allthreads-examples",
            dependencies: ["AllThreads", .product(name: "SystemPackage", package: "swift-system")],
            path: "Examples/Snippets"
        ),
        // Irreversible or process-wide scenarios, spawned by the tests as subprocesses.
        .executableTarget(
            name: "allthreads-scenarios",
            dependencies: [
                "AllThreads", "AllThreadsCLISupport", "AllThreadsFaults", "AllThreadsWorkload", "CFaults", "CThreadStarter",
                "CWorkload",
            ],
            path: "Tests/Scenarios"
        ),
        // Unit tests: parsing, validation, examples; nothing here spawns a process.
        .testTarget(
            name: "AllThreadsTests",
            dependencies: ["AllThreads", "AllThreadsCLISupport", "AllThreadsWorkload"]
        ),
        // Running the package's executables from tests, with deadlines.
        .target(name: "AllThreadsTestSupport", path: "Tests/TestSupport"),
        // Scenarios, the CLI and the benchmark, each in a process of its own, checked from /proc.
        .testTarget(
            name: "ScenarioTests",
            dependencies: [
                "AllThreads", "AllThreadsCLISupport", "AllThreadsTestSupport", "AllThreadsWorkload", "allthreads-scenarios",
                "allthreads-cli", "CSeccomp",
            ]
        ),
        // The bounded torture matrix.
        .testTarget(name: "TortureTests", dependencies: ["AllThreadsTestSupport", "allthreads-scenarios"]),
    ]
)
