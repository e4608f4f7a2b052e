import Foundation

/// A fresh directory under the system's temporary directory, removed by ``remove()``.
public struct TemporaryDirectory: Sendable {
    public let path: String

    public init(_ label: String = "miniupdate-test") throws {
        var template = Array("\(NSTemporaryDirectory())/\(label).XXXXXX".utf8CString)
        guard let result = mkdtemp(&template) else { throw POSIXError(.EIO) }
        path = String(cString: result)
    }

    /// Uses `path`, which must exist, as the directory.
    public init(existing path: String) {
        self.path = path
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }

    public func sub(_ name: String) -> String { "\(path)/\(name)" }
}

/// Writes a tree of files: `["a.txt": "text", "dir/b.js": "…"]`.
public func writeTree(_ files: [String: String], at root: String) throws {
    for (name, contents) in files {
        let path = "\(root)/\(name)"
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(contents.utf8).write(to: URL(fileURLWithPath: path))
    }
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
}

/// Reads a file as UTF-8, or nil.
public func readText(_ path: String) -> String? {
    FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
}
