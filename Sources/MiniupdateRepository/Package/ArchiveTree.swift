import MiniupdateCore

/// The tree an archive describes, kept in memory while it is unpacked, so that links can
/// be judged by where they really lead inside the tree and not by how their text looks.
///
/// A lexical check of each symlink alone is not enough: with `a -> .`, the link
/// `b -> a/..` looks harmless as text but leads to the parent of the tree. Resolving through
/// this table follows every symlink the archive made, exactly as the kernel would.
struct ArchiveTree {
    enum Node: Equatable {
        case directory
        case file
        case symlink(target: String)
    }

    private(set) var nodes: [String: Node] = ["": .directory]

    /// Splits an entry's name into components, refusing what must never reach the disk:
    /// absolute paths, `..`, empty names and over-long ones. A leading `./` is accepted.
    static func components(ofEntryName name: String) throws -> [String] {
        func unsafe(_ why: String) -> UpdateError {
            UpdateError(.archiveUnsafePath, "archive entry \(String(reflecting: String(name.prefix(200)))): \(why)")
        }
        guard !name.hasPrefix("/") else { throw unsafe("absolute path") }
        guard name.utf8.count <= 4096 else { throw unsafe("path longer than 4096 bytes") }
        var parts: [String] = []
        for part in name.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            guard part != ".." else { throw unsafe("'..' component") }
            guard part.utf8.count <= 255 else { throw unsafe("name longer than 255 bytes") }
            parts.append(String(part))
        }
        return parts
    }

    func node(at components: [String]) -> Node? { nodes[components.joined(separator: "/")] }

    /// Checks that every parent of `components` is a directory of the tree (or absent,
    /// to be created), never a symlink or a file that a write would go through.
    func checkParents(of components: [String], entryName: String) throws {
        for length in 1..<max(components.count, 1) {
            switch node(at: Array(components[..<length])) {
            case nil, .directory?: continue
            case .symlink?:
                throw UpdateError(.archiveLinkEscape, "archive entry \(String(reflecting: entryName)) goes through a symlink")
            case .file?:
                throw UpdateError(.archiveMalformed, "archive entry \(String(reflecting: entryName)) is below a file")
            }
        }
    }

    mutating func add(_ components: [String], _ node: Node) {
        for length in 1..<max(components.count, 1) {
            let parent = components[..<length].joined(separator: "/")
            if nodes[parent] == nil { nodes[parent] = .directory }
        }
        nodes[components.joined(separator: "/")] = node
    }

    /// Whether the symlink at `linkComponents` with text `target` resolves inside the tree.
    /// Dangling links are allowed as long as the path they name stays inside.
    func symlinkStaysInside(at linkComponents: [String], target: String) -> Bool {
        guard !target.hasPrefix("/"), !target.isEmpty else { return false }
        var resolved = Array(linkComponents.dropLast())
        var pending = Array(target.split(separator: "/", omittingEmptySubsequences: true).map(String.init).reversed())
        var hops = 0
        while let part = pending.popLast() {
            switch part {
            case ".": continue
            case "..":
                guard !resolved.isEmpty else { return false }
                resolved.removeLast()
            default:
                resolved.append(part)
                if case .symlink(let next)? = node(at: resolved) {
                    hops += 1
                    // The kernel gives up after 40 links; a loop is refused here too.
                    guard hops <= 40, !next.hasPrefix("/"), !next.isEmpty else { return false }
                    resolved.removeLast()
                    pending.append(contentsOf: next.split(separator: "/", omittingEmptySubsequences: true).map(String.init).reversed())
                }
            }
        }
        return true
    }
}
