import Logging
import Synchronization

/// Keeps the messages logged through ``logger``, to tell which way the engine went.
final class LogCapture: Sendable {
    private let messages = Mutex<[String]>([])

    var logger: Logger {
        var logger = Logger(label: "test") { _ in Handler(capture: self) }
        logger.logLevel = .debug
        return logger
    }

    func contains(_ text: String) -> Bool {
        messages.withLock { $0.contains { $0.contains(text) } }
    }

    var all: [String] { messages.withLock { $0 } }

    struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .debug

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            capture.messages.withLock { $0.append("\(event.message)") }
        }
    }
}
