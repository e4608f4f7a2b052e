import Foundation
import MiniupdateCore
import MiniupdateRepository
import MiniupdateServer
import MiniupdateTestSupport
import Testing

/// A generative fuzzer for the line decoder, the JSON-RPC parser and the request dispatch,
/// through a real socket to a real server: it mutates the checked-in corpus
/// (`FuzzCorpus/`, one file per seed input) and sends the results in batches, each
/// followed by a `status` request that must be answered. A crash ends the test process, a
/// wedged server fails the sentinel.
///
/// `MINIUPDATE_FUZZ_SECONDS` sets the duration (5 s by default; `docs/reliability.md`
/// records a longer run), `MINIUPDATE_FUZZ_SEED` replays one. Before each batch is sent it
/// is written to `$TMPDIR/miniupdate-fuzz-last-batch`, so that a crash leaves its input.
@Suite(.serialized) struct ProtocolFuzzTests {
    static let app = "com.example.weather"

    static var corpus: [[UInt8]] {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("FuzzCorpus").path
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory))?.sorted() ?? []
        return names.compactMap { FileManager.default.contents(atPath: "\(directory)/\($0)").map { Array($0) } }
    }

    @Test func mutatedRequestsNeverCrashOrWedgeTheServer() async throws {
        let environment = ProcessInfo.processInfo.environment
        let seconds = environment["MINIUPDATE_FUZZ_SECONDS"].flatMap { Int($0) } ?? 5
        let seed = environment["MINIUPDATE_FUZZ_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 1 ... .max)
        let corpus = Self.corpus
        try #require(corpus.count >= 5, "the corpus is missing")
        let lastBatch = FileManager.default.temporaryDirectory.appendingPathComponent("miniupdate-fuzz-last-batch")
        let harness = try await ServerHarness.make()
        try harness.repo.publish(Self.app, "1.0.0")
        let (inputs, batches) = try await harness.serve(options: ServerOptions(maximumLineLength: 64 * 1024)) { engine, _ in
            var mutator = Mutator(corpus: corpus, random: SplitMix64(seed: seed))
            _ = try await engine.install(try AppID(Self.app))
            let deadline = ContinuousClock.now + .seconds(seconds)
            var inputs = 0, batches = 0
            while ContinuousClock.now < deadline {
                let batch = (0..<64).map { _ in mutator.next() }
                try Data(batch.joined(separator: [0x0a]) + [0x0a]).write(to: lastBatch)
                let sentinel = "sentinel-\(batches)"
                try await LineClient.with(path: harness.socketPath) { client in
                    for input in batch { try? await client.send(bytes: input + [0x0a]) }
                    try? await client.send(#"{"jsonrpc":"2.0","id":"\#(sentinel)","method":"status"}"# + "\n")
                    if try await client.next(timeout: .seconds(20), where: { $0["id"] as? String == sentinel }) != nil { return }
                    // The batch may rightly have cost this connection (a line over the limit,
                    // a connection closed mid-line): a new one must be served at once.
                    #expect(await client.isClosed(timeout: .milliseconds(100)), "the server stopped answering on a live connection, seed \(seed)")
                }
                try await LineClient.with(path: harness.socketPath) { client in
                    try await client.request(1, "status")
                    let answer = try await client.next(timeout: .seconds(20), where: { $0["id"] as? Int == 1 })
                    #expect(answer?["result"] != nil, "the server stopped answering new connections, seed \(seed)")
                }
                inputs += batch.count
                batches += 1
            }
            return (inputs, batches)
        }
        try? FileManager.default.removeItem(at: lastBatch)
        print("protocol fuzz: \(inputs) inputs in \(batches) batches over \(seconds) s, seed \(seed), 0 crashes")
        await harness.remove()
    }
}

/// Mutates corpus entries the way coverage-less fuzzers do: bit flips, interesting bytes,
/// protocol tokens, deletions, duplications, splices and deep nesting.
struct Mutator {
    let corpus: [[UInt8]]
    var random: SplitMix64

    static let interestingBytes: [UInt8] = [0x00, 0x0a, 0x0d, 0x20, 0x22, 0x2c, 0x2d, 0x30, 0x3a, 0x5b, 0x5c, 0x5d, 0x65, 0x7b, 0x7d, 0x7f, 0x80, 0xc0, 0xed, 0xf4, 0xff]
    static let tokens: [String] = [
        #""jsonrpc""#, #""2.0""#, #""method""#, #""params""#, #""id""#, #""app""#, #""outcome""#, #""result""#, #""error""#,
        #""subscribe""#, #""unsubscribe""#, #""status""#, #""checkForUpdate""#, #""applyUpdate""#, #""install""#,
        #""rollback""#, #""simulate""#, #""ready""#, #""failed""#, #""no-update""#, "null", "true", "false", "1e308", "-1e-400",
        "-0", "18446744073709551616", "9223372036854775807", #""\ud800""#, #""\u0000""#, "[]", "{}", #""com.example.weather""#,
        #""../../etc""#, #""\""#, "{\"a\":", ",,", String(repeating: "9", count: 400),
    ]

    mutating func pick(_ count: Int) -> Int { Int(random.next() % UInt64(max(count, 1))) }

    mutating func next() -> [UInt8] {
        var input = corpus[pick(corpus.count)]
        // One line of a multi-line seed.
        let lines = input.split(separator: 0x0a, omittingEmptySubsequences: true)
        if !lines.isEmpty { input = Array(lines[pick(lines.count)]) }
        for _ in 0...pick(4) { mutate(&input) }
        // Mostly one line per input; now and then several, or a line split across inputs.
        if pick(8) != 0 { input.removeAll { $0 == 0x0a } }
        return input
    }

    mutating func mutate(_ input: inout [UInt8]) {
        let position = pick(input.count + 1)
        switch pick(8) {
        case 0 where !input.isEmpty:
            input[min(position, input.count - 1)] ^= UInt8(1 << pick(8))
        case 1 where !input.isEmpty:
            input[min(position, input.count - 1)] = Self.interestingBytes[pick(Self.interestingBytes.count)]
        case 2:
            input.insert(contentsOf: Array(Self.tokens[pick(Self.tokens.count)].utf8), at: position)
        case 3 where !input.isEmpty:
            let end = min(input.count, position + 1 + pick(16))
            input.removeSubrange(min(position, input.count - 1)..<end)
        case 4 where !input.isEmpty:
            let start = min(position, input.count - 1)
            let end = min(input.count, start + 1 + pick(32))
            input.insert(contentsOf: input[start..<end], at: start)
        case 5:
            let other = corpus[pick(corpus.count)]
            input = Array(input.prefix(position)) + Array(other.suffix(from: min(other.count, pick(other.count + 1))))
        case 6:
            let depth = 1 + pick(3000)
            input = Array(repeating: UInt8(ascii: pick(2) == 0 ? "[" : "{"), count: depth) + input + Array(repeating: UInt8(ascii: "]"), count: pick(depth + 1))
        default:
            input.insert(UInt8(truncatingIfNeeded: random.next()), at: position)
        }
    }
}
