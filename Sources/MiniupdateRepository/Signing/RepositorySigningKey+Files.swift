#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MiniupdateCore

extension RepositorySigningKey {
    /// Writes the key to `path` (mode 0600) and its public key to `path.pub` (0644), each
    /// atomically. Refuses to replace either file unless `replacing`.
    public func write(toFile path: String, replacing: Bool = false) throws {
        let publicPath = Self.publicKeyPath(for: path)
        if !replacing {
            for existing in [path, publicPath] where FileSystem.exists(existing) {
                throw UpdateError(.invalidArgument, "\(existing) exists; pass --force to replace it")
            }
        }
        try FileSystem.writeAtomically(Array(fileContents.utf8), to: path, mode: 0o600)
        try FileSystem.writeAtomically(Array(publicKey.fileContents.utf8), to: publicPath, mode: 0o644)
    }

    /// Where ``write(toFile:replacing:)`` puts the public key of a key at `path`.
    public static func publicKeyPath(for path: String) -> String { path + ".pub" }
}
