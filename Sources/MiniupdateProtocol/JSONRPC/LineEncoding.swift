import FoundationEssentials
import NIOCore

/// Shared by every thread: each `encode` works on its own state, and nothing changes the
/// options after this.
private let lineEncoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return encoder
}()

/// Encodes one message as a line: compact JSON and a newline.
public func encodeLine(_ value: some Encodable) -> [UInt8] {
    // Our message types always encode: they hold strings, numbers and arrays of them.
    var bytes = Array(try! lineEncoder.encode(value))
    bytes.append(UInt8(ascii: "\n"))
    return bytes
}

/// What ``encodeLine(_:)`` makes of an ``RPCResponse`` whose result is encoded already:
/// `{"id":…,"jsonrpc":"2.0","result":…}` and a newline. A result that answers many
/// requests (the cached status, an empty object) is encoded once, not once per request.
public func encodeResponseLine(id: RPCID, encodedResult result: some Collection<UInt8>) -> ByteBuffer {
    var buffer = ByteBuffer()
    buffer.reserveCapacity(result.count + 48)
    buffer.writeString(#"{"id":"#)
    switch id {
    case .number(let number): buffer.writeString(String(number))
    case .string: buffer.writeBytes(encodeLine(id).dropLast())
    }
    buffer.writeString(#","jsonrpc":"2.0","result":"#)
    buffer.writeBytes(result)
    buffer.writeString("}\n")
    return buffer
}

/// The response line to a batch: its members' lines (each without its newline) as one
/// JSON array, and a newline.
public func encodeBatchLine(_ responses: [ByteBuffer]) -> ByteBuffer {
    var buffer = ByteBuffer()
    buffer.reserveCapacity(responses.reduce(2) { $0 + $1.readableBytes })
    buffer.writeString("[")
    for (index, var response) in responses.enumerated() {
        if index > 0 { buffer.writeString(",") }
        if response.readableBytesView.last == UInt8(ascii: "\n") { response.moveWriterIndex(to: response.writerIndex - 1) }
        buffer.writeBuffer(&response)
    }
    buffer.writeString("]\n")
    return buffer
}
