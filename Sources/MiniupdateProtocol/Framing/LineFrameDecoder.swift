import NIOCore

/// Splits the inbound byte stream into lines (without the `\n`), refusing a line longer
/// than the limit instead of buffering it: one client cannot make the daemon hold 10 MiB.
public struct LineFrameDecoder: ByteToMessageDecoder {
    /// Each line, passed on as a slice of the inbound buffer, without its newline.
    public typealias InboundOut = ByteBuffer

    /// Thrown when a line, or a partial line still waiting for its newline, is longer than
    /// ``LineFrameDecoder/maximumLength``. The daemon answers it with `invalid request`
    /// (`"id": null`) and closes that connection.
    public struct LineTooLongError: Error {
        /// Creates the error.
        public init() {}
    }

    /// The longest line accepted, in bytes, the newline excluded.
    public let maximumLength: Int
    /// Where to resume the newline search, so a long partial line is scanned once.
    private var scanned = 0

    /// Creates a decoder that refuses lines longer than `maximumLength` bytes, the newline
    /// excluded.
    public init(maximumLength: Int) { self.maximumLength = maximumLength }

    /// Passes on the next complete line, if the buffer holds one.
    ///
    /// Empty lines are passed on too; whoever reads the lines ignores them.
    /// - Throws: ``LineTooLongError`` as soon as the line is known to be too long, without
    ///   waiting for its newline.
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

    /// Passes on the lines left when the stream ends, and the last one even without its
    /// newline.
    /// - Throws: ``LineTooLongError`` for a line that is too long.
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
