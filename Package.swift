// swift-tools-version:6.0
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

// Release builds of the daemon link with lld to pack the ~120,000 relative relocations of
// the statically linked Swift runtime (DT_RELR, glibc 2.36) and to export no symbols: the
// loader reads `.rela.dyn` (2.8 MiB) and the dynamic symbol table (1.5 MiB) once at exec,
// and the daemon would keep those pages resident for good.
//
// lld also places the functions that run (Sources/miniupdated/symbol-order.txt, written by
// Benchmarks/symbol-order.sh) side by side: the kernel maps code around each page touched,
// so a few megabytes of running code spread over 25 MiB of text kept most of it resident.
// A function missing from the list (new code) is linked after them, with no warning.
let residentSetLinkerSettings: [LinkerSetting] = [
    .unsafeFlags(
        [
            "-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs", "-Xlinker", "--no-export-dynamic",
            "-Xlinker", "--symbol-ordering-file=\(Context.packageDirectory)/Sources/miniupdated/symbol-order.txt",
            "-Xlinker", "--no-warn-symbol-ordering",
        ],
        .when(platforms: [.linux], configuration: .release)
    ),
]

let package = Package(
    name: "miniupdate",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "MiniupdateCore", targets: ["MiniupdateCore"]),
        .library(name: "MiniupdateRepository", targets: ["MiniupdateRepository"]),
        .library(name: "MiniupdateEngine", targets: ["MiniupdateEngine"]),
        .library(name: "MiniupdateProtocol", targets: ["MiniupdateProtocol"]),
        .library(name: "MiniupdateClient", targets: ["MiniupdateClient"]),
        .executable(name: "miniupdate-repo", targets: ["miniupdate-repo"]),
        .executable(name: "miniupdated", targets: ["miniupdated"]),
        .executable(name: "miniupdatectl", targets: ["miniupdatectl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        // libarchive, the package format's reader and writer (Debian: libarchive-dev).
        .systemLibrary(
            name: "CArchive",
            pkgConfig: "libarchive",
            providers: [.apt(["libarchive-dev"])]
        ),
        // Linux calls that Swift's Glibc module does not expose.
        .target(name: "CMiniupdateSystem"),
        // What every layer shares: app ids and versions, the error type and its one table
        // of codes, the strict JSON scan, durations and sizes as written, the release's
        // version. No dependencies, so the client SDK can carry it.
        .target(name: "MiniupdateCore", swiftSettings: strict),
        // The repository format: ids, versions, keys, the signed index and packages.
        // No I/O beyond local files, no network: the publisher's tool and the engine share it.
        .target(
            name: "MiniupdateRepository",
            dependencies: [
                "CArchive",
                "CMiniupdateSystem",
                "MiniupdateCore",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // The update engine: fetch, verify, download, stage, apply, state, events.
        // No sockets, no systemd.
        .target(
            name: "MiniupdateEngine",
            dependencies: [
                "MiniupdateCore",
                "MiniupdateRepository",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // Wire protocol v1: message types and error codes, shared by the daemon and clients.
        .target(
            name: "MiniupdateProtocol",
            dependencies: ["MiniupdateCore", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strict
        ),
        // The client SDK: a connection to the daemon, and the seed's UpdateManager over it.
        .target(
            name: "MiniupdateClient",
            dependencies: [
                "MiniupdateCore",
                "MiniupdateProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // The socket front end: protocol in, engine calls out, events back.
        .target(
            name: "MiniupdateServer",
            dependencies: [
                "MiniupdateCore",
                "MiniupdateEngine",
                "MiniupdateProtocol",
                "MiniupdateRepository",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // The daemon as a library: configuration, wiring, reload and shutdown.
        .target(
            name: "MiniupdateDaemon",
            dependencies: [
                "CMiniupdateSystem",
                "MiniupdateCore",
                "MiniupdateEngine",
                "MiniupdateProtocol",
                "MiniupdateRepository",
                "MiniupdateServer",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // What the three commands share: exit statuses, --json and --quiet, errors that
        // name the fix, suggestions, human times and sizes, colour on a terminal only.
        .target(
            name: "MiniupdateCommandLine",
            dependencies: [
                "MiniupdateCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        // libsystemd (Debian: libsystemd-dev), for sd_notify, sd_listen_fds and the journal.
        .systemLibrary(
            name: "CSystemd",
            pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"])]
        ),
        // systemd glue: the notify protocol, socket activation, a journald log handler.
        // It knows libsystemd and logging only; miniupdated joins it to the daemon.
        .target(
            name: "MiniupdateSystemd",
            dependencies: [
                "CSystemd",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "miniupdated",
            dependencies: [
                "MiniupdateCommandLine",
                "MiniupdateCore",
                "MiniupdateDaemon",
                "MiniupdateSystemd",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["symbol-order.txt"],
            swiftSettings: strict,
            linkerSettings: residentSetLinkerSettings
        ),
        .executableTarget(
            name: "miniupdatectl",
            dependencies: [
                "MiniupdateCommandLine",
                "MiniupdateClient",
                "MiniupdateCore",
                "MiniupdateProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        // The one-command demo of the whole product, in one process.
        // The benchmark: `swift run -c release miniupdate-bench` (see docs/performance.md).
        .executableTarget(
            name: "miniupdate-bench",
            dependencies: [
                "MiniupdateCore",
                "MiniupdateRepository",
                "MiniupdateEngine",
                "MiniupdateClient",
                "MiniupdateProtocol",
                "miniupdated",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "miniupdate-demo",
            dependencies: [
                "MiniupdateClient",
                "MiniupdateCore",
                "MiniupdateDaemon",
                "MiniupdateProtocol",
                "MiniupdateRepository",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "miniupdate-repo",
            dependencies: [
                "MiniupdateCommandLine",
                "MiniupdateCore",
                "MiniupdateRepository",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        // Fixtures shared by the test targets: a loopback HTTP repository server,
        // repository builders, the engine and socket server in one process, a raw
        // protocol client, and waits on conditions.
        .target(
            name: "MiniupdateTestSupport",
            dependencies: [
                "CArchive",
                "MiniupdateCore",
                "MiniupdateEngine",
                "MiniupdateRepository",
                "MiniupdateServer",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            path: "Tests/Support",
            swiftSettings: strict
        ),
        .testTarget(
            name: "MiniupdateRepositoryTests",
            dependencies: ["MiniupdateCommandLine", "MiniupdateCore", "MiniupdateRepository", "MiniupdateTestSupport"],
            swiftSettings: strict
        ),
        // The tests mirror the targets; the process tests run the real executables.
        .testTarget(
            name: "MiniupdateProtocolTests",
            dependencies: ["MiniupdateCore", "MiniupdateProtocol"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "MiniupdateServerTests",
            dependencies: [
                "MiniupdateCore", "MiniupdateEngine", "MiniupdateProtocol", "MiniupdateRepository", "MiniupdateServer",
                "MiniupdateTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            // The fuzz corpus is read from the source tree, not bundled.
            exclude: ["FuzzCorpus"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "MiniupdateClientTests",
            dependencies: ["MiniupdateClient", "MiniupdateCore", "MiniupdateEngine", "MiniupdateRepository", "MiniupdateTestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "MiniupdateDaemonTests",
            dependencies: [
                "MiniupdateCore", "MiniupdateDaemon", "MiniupdateEngine", "MiniupdateRepository", "MiniupdateTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "MiniupdateProcessTests",
            // The executables are dependencies so that they are built for these tests.
            dependencies: [
                "MiniupdateClient", "MiniupdateCore", "MiniupdateProtocol", "MiniupdateRepository", "MiniupdateTestSupport",
                "miniupdated", "miniupdatectl", "miniupdate-repo",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "MiniupdateSystemdTests",
            dependencies: ["MiniupdateSystemd", "MiniupdateTestSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "MiniupdateEngineTests",
            dependencies: [
                "MiniupdateCore", "MiniupdateEngine", "MiniupdateRepository", "MiniupdateTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
    ]
)
