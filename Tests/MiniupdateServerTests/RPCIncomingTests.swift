import Foundation
import MiniupdateProtocol
import Testing

/// A request line is decoded once: its envelope and, by its method, its params.
@Suite struct RPCIncomingTests {
    static func decode(_ line: String) throws -> RPCIncoming {
        try JSONDecoder().decode(RPCIncoming.self, from: Data(line.utf8))
    }

    @Test(arguments: [
        (#"{"jsonrpc":"2.0","id":1,"method":"subscribe","params":{"app":"a.b"}}"#, RequestParams.app(AppParams(app: "a.b"))),
        (#"{"jsonrpc":"2.0","id":1,"method":"unsubscribe","params":{"app":"a.b"}}"#, .app(AppParams(app: "a.b"))),
        (#"{"jsonrpc":"2.0","id":1,"method":"applyUpdate","params":{"app":"a.b"}}"#, .app(AppParams(app: "a.b"))),
        (#"{"jsonrpc":"2.0","id":1,"method":"install","params":{"app":"a.b"}}"#, .app(AppParams(app: "a.b"))),
        (#"{"jsonrpc":"2.0","id":1,"method":"rollback","params":{"app":"a.b"}}"#, .app(AppParams(app: "a.b"))),
        (#"{"jsonrpc":"2.0","id":1,"method":"checkForUpdate"}"#, .check(nil)),
        (#"{"jsonrpc":"2.0","id":1,"method":"checkForUpdate","params":{}}"#, .check(CheckParams(app: nil))),
        (#"{"jsonrpc":"2.0","id":1,"method":"checkForUpdate","params":{"app":"a.b"}}"#, .check(CheckParams(app: "a.b"))),
        (#"{"jsonrpc":"2.0","id":1,"method":"simulate","params":{"app":"a.b","outcome":"no-update"}}"#, .simulate(SimulateParams(app: "a.b", outcome: .noUpdate))),
        // Params a method does not take are not read, whatever they hold.
        (#"{"jsonrpc":"2.0","id":1,"method":"status"}"#, .unread),
        (#"{"jsonrpc":"2.0","id":1,"method":"status","params":[1,2]}"#, .unread),
        (#"{"jsonrpc":"2.0","id":1,"method":"reticulateSplines","params":{"app":7}}"#, .unread),
    ])
    func eachMethodGetsItsParams(_ line: String, _ expected: RequestParams) throws {
        let incoming = try Self.decode(line)
        #expect(try incoming.params.get() == expected)
        #expect(incoming.id == .number(1))
    }

    @Test(arguments: [
        (#"{"jsonrpc":"2.0","id":"x","method":"subscribe"}"#, "missing params"),
        (#"{"jsonrpc":"2.0","id":"x","method":"subscribe","params":{}}"#, "missing app"),
        (#"{"jsonrpc":"2.0","id":"x","method":"subscribe","params":"a.b"}"#, "params: "),
        (#"{"jsonrpc":"2.0","id":"x","method":"applyUpdate","params":{"app":42}}"#, "app: "),
        (#"{"jsonrpc":"2.0","id":"x","method":"checkForUpdate","params":null}"#, "params: "),
        (#"{"jsonrpc":"2.0","id":"x","method":"simulate","params":{"app":"a.b","outcome":"maybe"}}"#, "outcome: "),
    ])
    func paramsThatDoNotFitKeepTheEnvelope(_ line: String, _ why: String) throws {
        let incoming = try Self.decode(line)
        #expect(incoming.id == .string("x"))
        #expect(incoming.jsonrpc == "2.0")
        guard case .failure(let error) = incoming.params else {
            Issue.record("params were accepted: \(incoming.params)")
            return
        }
        #expect(error.description.hasPrefix(why), "\(error)")
        if why.hasSuffix(": ") { #expect(error.description.count > why.count, "says what is wrong") }
    }

    @Test func aBadEnvelopeIsNoRequest() {
        #expect(throws: DecodingError.self) { try Self.decode(#"{"jsonrpc":"2.0","id":{},"method":"status"}"#) }
        #expect(throws: DecodingError.self) { try Self.decode(#"{"jsonrpc":"2.0","id":1,"method":3}"#) }
    }

    @Test(arguments: [RPCID.number(0), .number(-12), .string("é\"\u{1}")])
    func anEmptyResultIsTheLineTheEncoderMakes(_ id: RPCID) {
        let line = encodeResponseLine(id: id, encodedResult: Array("{}".utf8))
        #expect(Array(line.readableBytesView) == encodeLine(RPCResponse(id: id, result: Empty())))
    }
}
