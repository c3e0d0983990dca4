/// A pure-Swift DEFLATE decoder (RFC 1951): stored, fixed-Huffman and dynamic-Huffman blocks.
///
/// Every read is bounds-checked: any byte sequence either decodes or throws a `DataError`
/// (`corruptDeflate` for invalid data, `truncated` when the input ends early); nothing traps.
public enum Deflate {
    /// The bytes that a raw DEFLATE stream (no zlib or gzip wrapper) decodes to.
    ///
    /// Decoding stops after the block marked final; `consumed` is the number of input bytes up
    /// to and including that block's last byte, so a container's trailer starts there.
    ///
    /// - Parameters:
    ///   - bytes: the compressed stream.
    ///   - file: the file's name for error messages.
    ///   - baseOffset: the stream's offset within the file, so errors point into the file.
    ///   - expectedSize: a hint for the output's capacity (the gzip ISIZE field), or 0.
    ///   - maximumSize: the most output bytes accepted; a stream that decodes to more stops
    ///     there with a `tooLarge` error (a "zip bomb" never fills memory).
    public static func inflate(
        _ bytes: [UInt8], file: String = "<data>", baseOffset: Int = 0, expectedSize: Int = 0,
        maximumSize: Int = .max
    ) throws(DataError) -> (output: [UInt8], consumed: Int) {
        precondition(maximumSize >= 0, "Deflate.inflate: negative maximumSize \(maximumSize)")
        var inflater = Inflater(input: bytes, start: 0, file: file, baseOffset: baseOffset,
                                capacity: min(max(expectedSize, 4 * bytes.count), maximumSize), limit: maximumSize)
        try inflater.run()
        return (inflater.output.bytes, inflater.consumedBytes)
    }
}

/// A canonical Huffman code as a lookup table indexed by the next `maxLength` input bits
/// (least significant bit first, as DEFLATE packs them). Each entry is `symbol << 4 | length`;
/// length 0 marks a bit pattern that no code starts with.
struct HuffmanTable: Sendable {
    /// Why a list of code lengths describes no prefix code.
    struct CodeError: Error {
        let reason: String
    }

    var entries: [UInt32]
    var maxLength: Int
    var mask: UInt64

    /// The table of the code with the given code lengths (0 = symbol unused), or the reason the
    /// lengths describe no prefix code (over-subscribed). Incomplete codes are accepted; their
    /// unused patterns decode to an error.
    static func build(lengths: [UInt8]) -> Result<HuffmanTable, CodeError> {
        var counts = [Int](repeating: 0, count: 16)
        for length in lengths { counts[Int(length)] += 1 }
        counts[0] = 0
        var left = 1
        for length in 1...15 {
            left <<= 1
            left -= counts[length]
            if left < 0 { return .failure(CodeError(reason: "over-subscribed Huffman code lengths")) }
        }
        var maxLength = 0
        for length in 1...15 where counts[length] > 0 { maxLength = length }
        let size = 1 << maxLength
        var entries = [UInt32](repeating: 0, count: size)
        var nextCode = [Int](repeating: 0, count: 16)
        var code = 0
        for length in 1...15 {
            code = (code + counts[length - 1]) << 1
            nextCode[length] = code
        }
        // counts[0] was zeroed, so the first shift above starts canonical codes at 0.
        for (symbol, lengthByte) in lengths.enumerated() where lengthByte > 0 {
            let length = Int(lengthByte)
            let canonical = nextCode[length]
            nextCode[length] += 1
            var reversed = 0
            for bit in 0..<length where canonical & (1 << bit) != 0 { reversed |= 1 << (length - 1 - bit) }
            let entry = UInt32(symbol) << 4 | UInt32(length)
            var index = reversed
            while index < size {
                entries[index] = entry
                index += 1 << length
            }
        }
        return .success(HuffmanTable(entries: entries, maxLength: maxLength, mask: UInt64(size - 1)))
    }

    /// The fixed literal/length code of block type 1.
    static let fixedLiteralLength: HuffmanTable = {
        var lengths = [UInt8](repeating: 8, count: 288)
        for symbol in 144..<256 { lengths[symbol] = 9 }
        for symbol in 256..<280 { lengths[symbol] = 7 }
        guard case .success(let table) = build(lengths: lengths) else { preconditionFailure("fixed code") }
        return table
    }()

    /// The fixed distance code of block type 1 (symbols 30 and 31 exist but are invalid).
    static let fixedDistance: HuffmanTable = {
        guard case .success(let table) = build(lengths: [UInt8](repeating: 5, count: 32)) else {
            preconditionFailure("fixed code")
        }
        return table
    }()
}

/// The decoder's output: a growable byte buffer written through a pointer. The hot loop
/// appends a byte or copies a match per symbol, and `Array`'s per-append checks would double
/// the decoding time.
final class OutputBuffer {
    private(set) var pointer: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    private(set) var capacity: Int
    /// The capacity growth stops at (the decoder never writes past its output limit).
    let maximumCapacity: Int

    init(capacity: Int, maximumCapacity: Int = .max) {
        self.maximumCapacity = maximumCapacity
        self.capacity = min(max(capacity, 1024), max(maximumCapacity, 1))
        pointer = .allocate(capacity: self.capacity)
    }

    deinit { pointer.deallocate() }

    /// Makes room for `extra` more bytes.
    @inline(__always)
    func reserve(_ extra: Int) {
        if count + extra > capacity { grow(to: count + extra) }
    }

    func grow(to needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        newCapacity = min(newCapacity, max(needed, maximumCapacity))
        let newPointer = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newPointer.update(from: pointer, count: count)
        pointer.deallocate()
        pointer = newPointer
        capacity = newCapacity
    }

    @inline(__always)
    func append(_ byte: UInt8) {
        reserve(1)
        pointer[count] = byte
        count += 1
    }

    func append(contentsOf bytes: ArraySlice<UInt8>) {
        reserve(bytes.count)
        bytes.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { (pointer + count).update(from: base, count: source.count) }
        }
        count += bytes.count
    }

    /// Appends `length` bytes copied from `distance` bytes back; when the two ranges overlap
    /// (`distance < length`) the copy repeats the last `distance` bytes, as DEFLATE requires.
    @inline(__always)
    func copyMatch(distance: Int, length: Int) {
        precondition(distance >= 1 && distance <= count && length >= 0, "copyMatch: distance \(distance) outside 1...\(count)")
        reserve(length)
        let destination = pointer + count
        let source = destination - distance
        if distance >= length {
            destination.update(from: source, count: length)
        } else {
            for index in 0..<length { destination[index] = source[index] }
        }
        count += length
    }

    /// A copy of the bytes written.
    var bytes: [UInt8] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}

/// The decoder's state: input position, bit buffer and output so far.
struct Inflater {
    let input: [UInt8]
    let file: String
    let baseOffset: Int
    /// Next input byte to move into the bit buffer.
    var position: Int
    /// Unconsumed bits, the next one in the least significant place.
    var bitBuffer: UInt64 = 0
    var bitCount: Int = 0
    let output: OutputBuffer
    /// The most output bytes accepted.
    let limit: Int

    static let lengthBase: [Int] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
                                    35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    static let lengthExtra: [Int] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
                                     3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    static let distanceBase: [Int] = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193,
                                      257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145,
                                      8193, 12289, 16385, 24577]
    static let distanceExtra: [Int] = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6,
                                       7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
    static let codeLengthOrder: [Int] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    init(input: [UInt8], start: Int, file: String, baseOffset: Int, capacity: Int, limit: Int = .max) {
        self.output = OutputBuffer(capacity: capacity, maximumCapacity: limit)
        self.limit = limit
        self.input = input
        self.position = start
        self.file = file
        self.baseOffset = baseOffset
    }

    /// Input bytes consumed so far (whole bytes; a partly used byte counts as consumed).
    var consumedBytes: Int { position - bitCount / 8 }

    func corrupt(_ why: String) -> DataError {
        DataError(file: file, location: .byte(baseOffset + max(0, consumedBytes - 1)), reason: .corruptDeflate(why))
    }

    /// The error for output that would pass `limit`.
    func tooLarge() -> DataError {
        DataError(file: file, location: .byte(baseOffset + max(0, consumedBytes - 1)),
                  reason: .tooLarge("the data decompress to more than the limit of \(FileSizeLimit.describeExactly(limit)); "
                                    + FileSizeLimit.advice))
    }

    func truncated() -> DataError {
        DataError(file: file, location: .byte(baseOffset + input.count),
                  reason: .truncated("compressed data: the file ends inside a DEFLATE block"))
    }

    @inline(__always)
    mutating func refill() {
        while bitCount <= 56 && position < input.count {
            bitBuffer |= UInt64(input[position]) << UInt64(bitCount)
            position += 1
            bitCount += 8
        }
    }

    /// The next `count` bits (at most 32) as an integer, first bit least significant.
    @inline(__always)
    mutating func bits(_ count: Int) throws(DataError) -> Int {
        if count == 0 { return 0 }
        if bitCount < count {
            refill()
            if bitCount < count { throw truncated() }
        }
        let value = Int(bitBuffer & ((1 << UInt64(count)) - 1))
        bitBuffer >>= UInt64(count)
        bitCount -= count
        return value
    }

    /// The next symbol of `table`'s code.
    @inline(__always)
    mutating func decode(_ table: HuffmanTable) throws(DataError) -> Int {
        if bitCount < table.maxLength { refill() }
        guard table.maxLength > 0 else { throw corrupt("a symbol is read from an empty Huffman code") }
        let entry = table.entries[Int(bitBuffer & table.mask)]
        let length = Int(entry & 15)
        if length == 0 {
            if bitCount < table.maxLength { throw truncated() }
            throw corrupt("invalid Huffman code")
        }
        if length > bitCount { throw truncated() }
        bitBuffer >>= UInt64(length)
        bitCount -= length
        return Int(entry >> 4)
    }

    /// Decodes blocks until the final one.
    mutating func run() throws(DataError) {
        var isFinal = false
        while !isFinal {
            isFinal = try bits(1) == 1
            switch try bits(2) {
            case 0: try storedBlock()
            case 1: try huffmanBlock(literalLength: HuffmanTable.fixedLiteralLength, distance: HuffmanTable.fixedDistance)
            case 2:
                let (literalLength, distance) = try dynamicTables()
                try huffmanBlock(literalLength: literalLength, distance: distance)
            default: throw corrupt("invalid block type 3")
            }
        }
        // The rest of the last byte is padding; hand unread whole bytes back to the container.
        let padding = bitCount % 8
        bitBuffer >>= UInt64(padding)
        bitCount -= padding
    }

    mutating func storedBlock() throws(DataError) {
        let padding = bitCount % 8
        bitBuffer >>= UInt64(padding)
        bitCount -= padding
        let length = try bits(16)
        let complement = try bits(16)
        guard length == (~complement & 0xFFFF) else {
            throw corrupt("stored block length \(length) does not match its complement \(complement)")
        }
        guard length <= limit - output.count else { throw tooLarge() }
        var remaining = length
        while remaining > 0 && bitCount >= 8 {
            output.append(UInt8(try bits(8)))
            remaining -= 1
        }
        guard input.count - position >= remaining else {
            output.append(contentsOf: input[position...])
            position = input.count
            throw truncated()
        }
        output.append(contentsOf: input[position..<(position + remaining)])
        position += remaining
    }

    mutating func dynamicTables() throws(DataError) -> (HuffmanTable, HuffmanTable) {
        let literalCount = try bits(5) + 257
        let distanceCount = try bits(5) + 1
        let codeLengthCount = try bits(4) + 4
        guard literalCount <= 286 else { throw corrupt("\(literalCount) literal/length codes (at most 286)") }
        guard distanceCount <= 30 else { throw corrupt("\(distanceCount) distance codes (at most 30)") }
        var codeLengthLengths = [UInt8](repeating: 0, count: 19)
        for index in 0..<codeLengthCount {
            codeLengthLengths[Self.codeLengthOrder[index]] = UInt8(try bits(3))
        }
        let codeLengthTable: HuffmanTable
        switch HuffmanTable.build(lengths: codeLengthLengths) {
        case .success(let table): codeLengthTable = table
        case .failure(let why): throw corrupt("code length code: \(why.reason)")
        }
        let total = literalCount + distanceCount
        var lengths = [UInt8]()
        lengths.reserveCapacity(total)
        while lengths.count < total {
            let symbol = try decode(codeLengthTable)
            var value: UInt8 = 0
            var repeatCount: Int
            switch symbol {
            case 0...15:
                lengths.append(UInt8(symbol))
                continue
            case 16:
                guard let previous = lengths.last else { throw corrupt("repeat code 16 with no previous length") }
                value = previous
                repeatCount = 3 + (try bits(2))
            case 17: repeatCount = 3 + (try bits(3))
            default: repeatCount = 11 + (try bits(7))
            }
            guard lengths.count + repeatCount <= total else { throw corrupt("code lengths run past the \(total) codes") }
            lengths.append(contentsOf: repeatElement(value, count: repeatCount))
        }
        guard lengths[256] != 0 else { throw corrupt("the end-of-block code has no length") }
        let literalLength: HuffmanTable
        switch HuffmanTable.build(lengths: Array(lengths[0..<literalCount])) {
        case .success(let table): literalLength = table
        case .failure(let why): throw corrupt("literal/length code: \(why.reason)")
        }
        let distance: HuffmanTable
        switch HuffmanTable.build(lengths: Array(lengths[literalCount...])) {
        case .success(let table): distance = table
        case .failure(let why): throw corrupt("distance code: \(why.reason)")
        }
        return (literalLength, distance)
    }

    mutating func huffmanBlock(literalLength: HuffmanTable, distance: HuffmanTable) throws(DataError) {
        while true {
            let symbol = try decode(literalLength)
            if symbol < 256 {
                guard output.count < limit else { throw tooLarge() }
                output.append(UInt8(truncatingIfNeeded: symbol))
                continue
            }
            if symbol == 256 { return }
            let lengthIndex = symbol - 257
            guard lengthIndex < 29 else { throw corrupt("invalid length symbol \(symbol)") }
            let length = Self.lengthBase[lengthIndex] + (try bits(Self.lengthExtra[lengthIndex]))
            let distanceSymbol = try decode(distance)
            guard distanceSymbol < 30 else { throw corrupt("invalid distance symbol \(distanceSymbol)") }
            let back = Self.distanceBase[distanceSymbol] + (try bits(Self.distanceExtra[distanceSymbol]))
            guard back <= output.count else {
                throw corrupt("distance \(back) reaches before the start of the data (\(output.count) byte\(output.count == 1 ? "" : "s") so far)")
            }
            guard length <= limit - output.count else { throw tooLarge() }
            output.copyMatch(distance: back, length: length)
        }
    }
}
