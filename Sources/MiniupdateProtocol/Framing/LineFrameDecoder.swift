import NIOCore

/// Splits the inbound byte stream into lines (without the `\n`), refusing a line longer
/// than the limit instead of buffering it: one client cannot make the daemon hold 10 MiB.
public struct LineFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    public struct LineTooLongError: Error {
        public init() {}
    }

    public let maximumLength: Int
    /// Where to resume the newline search, so a long partial line is scanned once.
    private var scanned = 0

    public init(maximumLength: Int) { self.maximumLength = maximumLength }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let view = buffer.readableBytesView
        let start = view.startIndex + scanned
        if let newline = view[start...].firstIndex(of: UInt8(ascii: "\n")) {
            let length = newline - view.startIndex
            guard length <= maximumLength else { throw LineTooLongError() }
            let line = buffer.readSlice(length: length)!
            buffer.moveReaderIndex(forwardBy: 1)
            scanned = 0
            context.fireChannelRead(wrapInboundOut(line))
            return .continue
        }
        scanned = view.count
        guard view.count <= maximumLength else { throw LineTooLongError() }
        return .needMoreData
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        // A last message without its newline is still a message.
        if buffer.readableBytes > 0, let rest = buffer.readSlice(length: buffer.readableBytes) {
            scanned = 0
            context.fireChannelRead(wrapInboundOut(rest))
        }
        return .needMoreData
    }
}
