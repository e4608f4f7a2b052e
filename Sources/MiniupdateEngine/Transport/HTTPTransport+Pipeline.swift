import AsyncHTTPClient
import NIOCore
import NIOPosix

extension HTTPTransport {
    /// The size of the batches a large body is handed to the blocking pool in.
    static let pipelineBatchSize = 1 << 20

    /// Delivers a body larger than one batch to `sink` on the blocking pool, receiving the
    /// next batch while the pool hands the last one to the sink.
    ///
    /// A task stays on the event loop that resumes it, here the connection's: delivered
    /// inline, a package's bytes are received, written and hashed in turns on one thread,
    /// while the other CPUs wait. Only one side holds the sink at a time: a batch is handed
    /// over once the one before it is done, and the sink is taken back before this
    /// returns. A sink's error stops the transfer at the next hand-over, at most one batch
    /// later, and wins over a receive error.
    static func deliverPipelined<Sink: FetchSink>(_ body: HTTPClientResponse.Body, to sink: inout Sink, clock: inout TransferClock, url: String) async throws {
        let handoff = SinkHandoff(sink)
        var inFlight: EventLoopFuture<Void>?
        var batch: [ByteBuffer] = []
        var batchBytes = 0
        var sinkError: (any Error)?
        var receiveError: (any Error)?
        do {
            for try await buffer in body {
                try clock.received(buffer.readableBytes, path: url)
                batch.append(buffer)
                batchBytes += buffer.readableBytes
                guard batchBytes >= pipelineBatchSize else { continue }
                if let previous = inFlight {
                    inFlight = nil
                    do { try await previous.get() } catch { sinkError = error; break }
                }
                inFlight = handoff.deliver(batch)
                batch = []
                batchBytes = 0
            }
        } catch {
            receiveError = error
        }
        // Whatever happened, the batch in flight is done with before the sink is taken back;
        // and what arrived before a receive failed is delivered, as it would have been
        // inline, so that the next attempt resumes after it.
        if sinkError == nil, let previous = inFlight {
            do { try await previous.get() } catch { sinkError = error }
        }
        if sinkError == nil, !batch.isEmpty {
            do { try await handoff.deliver(batch).get() } catch { sinkError = error }
        }
        sink = handoff.sink
        if let error = sinkError ?? receiveError { throw error }
    }
}

/// A sink on its way between a task and the blocking pool; see
/// ``HTTPTransport/deliverPipelined(_:to:clock:url:)``, which never lets both touch it at
/// once (hence unchecked).
private final class SinkHandoff<Sink: FetchSink>: @unchecked Sendable {
    var sink: Sink

    init(_ sink: Sink) { self.sink = sink }

    func deliver(_ batch: [ByteBuffer]) -> EventLoopFuture<Void> {
        NIOThreadPool.singleton.runIfActive(eventLoop: MultiThreadedEventLoopGroup.singleton.any()) {
            for buffer in batch {
                try buffer.withUnsafeReadableBytes { try self.sink.append($0) }
            }
        }
    }
}
