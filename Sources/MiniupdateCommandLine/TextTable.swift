/// A plain table: columns padded to their widest cell, two spaces apart.
public enum TextTable {
    /// The table's lines, header first.
    public static func lines(_ header: [String], _ rows: [[String]]) -> [String] {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[column] - cell.count)
            }.joined(separator: "  ")
        }
    }

    /// Prints the table's ``lines(_:_:)`` on stdout. Every row needs as many cells as
    /// `header`.
    public static func print(_ header: [String], _ rows: [[String]]) {
        for line in lines(header, rows) { Swift.print(line) }
    }
}
