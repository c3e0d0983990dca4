import Foundation
import FuzzDriver
import GradData

// Fuzzes `IDXArray.parse(_:file:)` (after gunzipping, as `IDXArray.read` does) and, on a parsed
// array, `IDXLoader.dataset` with the array as images and as labels beside a valid partner.
// Contract: an array/data set or a `DataError`, never a trap.

/// Three 2×2 images of bytes and three labels, as `Tests/Fixtures/data/tiny_*`.
private let images = try! IDXArray.parse([0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2] + Array(0..<12), file: "images")
private let labels = try! IDXArray.parse([0, 0, 8, 1, 0, 0, 0, 3, 0, 1, 2], file: "labels")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIDX(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    var input = Array(fuzzInput(bytes, count))
    do {
        if Gzip.isGzip(input) { input = try Gzip.decompress(input, file: "fuzz.idx.gz") }
        let array = try IDXArray.parse(input, file: "fuzz.idx")
        _ = array.scalars(as: Float.self)
        for encoding in [CSVOptions.LabelEncoding.oneHot, .index] {
            _ = try? IDXLoader.dataset(images: array, imagesFile: "fuzz.idx", labels: labels, labelsFile: "labels",
                                       encoding: encoding, as: Float.self)
            _ = try? IDXLoader.dataset(images: images, imagesFile: "images", labels: array, labelsFile: "fuzz.idx",
                                       encoding: encoding, as: Float.self)
        }
    } catch {
        precondition(!error.description.contains("\n"), "a DataError description spans lines: \(error.description)")
    }
    return 0
}

/// Hands `fuzzIDX` to libFuzzer.
@main
enum FuzzIDXMain {
    static func main() { runFuzzer(fuzzIDX) }
}
