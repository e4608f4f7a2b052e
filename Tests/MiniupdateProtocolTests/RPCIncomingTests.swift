import Foundation
import MiniupdateProtocol
import Testing

/// A request line is decoded once: its envelope and, by its method, its typed params.
@Suite struct RPCIncomingTests {
    static func decode(_ line: String) throws -> RPCIncoming {
        try JSONDecoder().decode(RPCIncoming.self, from: Data(line.utf8))
    }

    @Test(arguments: [
        (#"{"jsonrpc":"2.0","id":1,"method":"subscribe","params":{"app":"a.b"}}"#, ClientRequest.subscribe(Method.Subscribe(app: "a.b"))),
        (#"{"jsonrpc":"2.0","id":1,"method":"unsubscribe","params":{"app":"a.b"}}"#, .unsubscribe(Method.Unsubscribe(app: "a.b"))),
        (#"{"jsonrpc":"2.0","id":1,"method":"applyUpdate","params":{"app":"a.b"}}"#, .applyUpdate(Method.ApplyUpdate(app: "a.b"))),
        (#"{"jsonrpc":"2.0","id":1,"method":"install","params":{"app":"a.b"}}"#, .install(Method.Install(app: "a.b"))),
        (#"{"jsonrpc":"2.0","id":1,"method":"rollback","params":{"app":"a.b"}}"#, .rollback(Method.Rollback(app: "a.b"))),
        (#"{"jsonrpc":"2.0","id":1,"method":"checkForUpdate"}"#, .checkForUpdate(Method.CheckForUpdate())),
        (#"{"jsonrpc":"2.0","id":1,"method":"checkForUpdate","params":{}}"#, .checkForUpdate(Method.CheckForUpdate(app: nil))),
        (#"{"jsonrpc":"2.0","id":1,"method":"checkForUpdate","params":{"app":"a.b"}}"#, .checkForUpdate(Method.CheckForUpdate(app: "a.b"))),
        (#"{"jsonrpc":"2.0","id":1,"method":"simulate","params":{"app":"a.b","outcome":"no-update"}}"#, .simulate(Method.Simulate(app: "a.b", outcome: .noUpdate))),
        // A method without members does not read params, whatever they hold (as v1 always did).
        (#"{"jsonrpc":"2.0","id":1,"method":"status"}"#, .status(Method.Status())),
        (#"{"jsonrpc":"2.0","id":1,"method":"status","params":[1,2]}"#, .status(Method.Status())),
    ])
    func eachMethodGetsItsParams(_ line: String, _ expected: ClientRequest) throws {
        let incoming = try Self.decode(line)
        #expect(try incoming.request?.get() == expected)
        #expect(incoming.id == .number(1))
    }

    @Test func anUnknownMethodHasNoRequest() throws {
        let incoming = try Self.decode(#"{"jsonrpc":"2.0","id":1,"method":"reticulateSplines","params":{"app":7}}"#)
        #expect(incoming.request == nil)
        #expect(incoming.method == "reticulateSplines")
    }

    /// Every refusal names the member and what it accepts, in words for people, never
    /// Swift's own (`Cannot initialize Outcome from invalid String value`, `Dictionary<String, Any>`).
    @Test(arguments: [
        (#"{"jsonrpc":"2.0","id":"x","method":"subscribe"}"#, #"missing params: expected an object {"app": …}"#),
        (#"{"jsonrpc":"2.0","id":"x","method":"subscribe","params":{}}"#, #"missing app: expected an app id such as "com.example.weather""#),
        (#"{"jsonrpc":"2.0","id":"x","method":"subscribe","params":"a.b"}"#, #"params: expected an object {"app": …}; by-position (array) params are not supported"#),
        (#"{"jsonrpc":"2.0","id":"x","method":"subscribe","params":["a.b"]}"#, #"params: expected an object {"app": …}; by-position (array) params are not supported"#),
        (#"{"jsonrpc":"2.0","id":"x","method":"applyUpdate","params":{"app":42}}"#, #"app: expected an app id such as "com.example.weather""#),
        (#"{"jsonrpc":"2.0","id":"x","method":"checkForUpdate","params":null}"#, #"params: expected an object {"app": …}, got null"#),
        (#"{"jsonrpc":"2.0","id":"x","method":"simulate","params":{"app":"a.b","outcome":"bogus"}}"#, #"outcome: expected "ready", "failed" or "no-update"; got "bogus""#),
        (#"{"jsonrpc":"2.0","id":"x","method":"simulate","params":{"app":"a.b"}}"#, #"missing outcome: expected "ready", "failed" or "no-update""#),
    ])
    func paramsThatDoNotFitKeepTheEnvelopeAndSayWhy(_ line: String, _ why: String) throws {
        let incoming = try Self.decode(line)
        #expect(incoming.id == .string("x"))
        #expect(incoming.jsonrpc == "2.0")
        guard case .failure(let error)? = incoming.request else {
            Issue.record("params were accepted: \(String(describing: incoming.request))")
            return
        }
        #expect(error.description.hasPrefix(why), "\(error)")
        for swiftWords in ["Dictionary", "Swift", "Cannot initialize", "CodingKeys", "Expected to decode"] {
            #expect(!error.description.contains(swiftWords), "\(error)")
        }
    }

    @Test func aBadEnvelopeIsNoRequest() {
        #expect(throws: DecodingError.self) { try Self.decode(#"{"jsonrpc":"2.0","id":{},"method":"status"}"#) }
        #expect(throws: DecodingError.self) { try Self.decode(#"{"jsonrpc":"2.0","id":1,"method":3}"#) }
    }

    @Test func aLineIsOneMessageOrABatch() {
        guard case .single(.request(let single)) = IncomingLine.parse(Array(#"{"jsonrpc":"2.0","id":1,"method":"status"}"#.utf8), maximumBatchLength: 4) else {
            Issue.record("not one request")
            return
        }
        #expect(single.method == "status")
        let batch = IncomingLine.parse(Array(#"[{"jsonrpc":"2.0","id":1,"method":"status"}, 7, {"jsonrpc":"2.0","method":"status"}, {"jsonrpc":"2.0","id":9,"result":{}}]"#.utf8), maximumBatchLength: 4)
        guard case .batch(let messages) = batch, messages.count == 4 else {
            Issue.record("not a batch of four: \(batch)")
            return
        }
        if case .request(let first) = messages[0] { #expect(first.id == .number(1)) } else { Issue.record("first is no request") }
        if case .invalid(let second) = messages[1] { #expect(second.error.code == -32600) } else { Issue.record("7 is no invalid request") }
        if case .request(let third) = messages[2] { #expect(third.id == nil) } else { Issue.record("third is no notification") }
        if case .ignored = messages[3] {} else { Issue.record("a response in a batch is not ignored") }
    }

    @Test(arguments: ["[]", "[" + Array(repeating: #"{"jsonrpc":"2.0","method":"status"}"#, count: 5).joined(separator: ",") + "]"])
    func anEmptyOrTooLongBatchIsOneInvalidRequest(_ line: String) {
        guard case .single(.invalid(let answer)) = IncomingLine.parse(Array(line.utf8), maximumBatchLength: 4) else {
            Issue.record("accepted")
            return
        }
        #expect(answer.error.code == -32600)
        #expect(answer.id == nil)
    }

    @Test(arguments: [RPCID.number(0), .number(-12), .string("é\"\u{1}")])
    func anEmptyResultIsTheLineTheEncoderMakes(_ id: RPCID) {
        let line = encodeResponseLine(id: id, encodedResult: Array("{}".utf8))
        #expect(Array(line.readableBytesView) == encodeLine(RPCResponse(id: id, result: Empty())))
    }
}
