/// "Did you mean …?" for a mistyped command name.
public enum Suggestion {
    /// The name in `candidates` closest to `word`, if it is close enough to be a typo:
    /// at most a third of the word's letters changed, or `word` is a prefix of exactly one.
    public static func closest(to word: String, in candidates: [String]) -> String? {
        let prefixed = candidates.filter { $0.hasPrefix(word) }
        if !word.isEmpty, prefixed.count == 1 { return prefixed[0] }
        let scored = candidates.map { (name: $0, distance: distance(word, $0)) }.min { $0.distance < $1.distance }
        guard let best = scored, best.distance <= max(1, word.count / 3) else { return nil }
        return best.name
    }

    /// The Damerau–Levenshtein distance (adjacent swaps count once) between two words.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { table[i][0] = i }
        for j in 0...b.count { table[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1)
                }
            }
        }
        return table[a.count][b.count]
    }
}
