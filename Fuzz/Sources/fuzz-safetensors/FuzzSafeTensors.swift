import Foundation
import FuzzDriver
import GradNN
import GradTensor

// Fuzzes `SafeTensors(data:file:)` and the checkpoint loader that reads through it.
// Contract: any bytes either parse or throw `CheckpointError`; a parsed file serializes to
// bytes that parse again to the same names, dtypes and shapes, and loading it into a module
// either succeeds or throws.

/// The architecture of `Tests/Fixtures/checkpoint_torch.safetensors` (a seed of the corpus);
/// libFuzzer calls the target from one thread only.
nonisolated(unsafe) private let model: Sequential<Float> = {
    let g = RandomGenerator(seed: 1)
    return Sequential<Float>(Linear(1, 10, generator: g), Sigmoid(), Linear(10, 10, generator: g), ReLU(),
                             Linear(10, 1, generator: g))
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = fuzzInput(bytes, count)
    let data = Data(buffer: input)
    let file: SafeTensors
    do {
        file = try SafeTensors(data: data, file: "fuzz.safetensors")
    } catch is CheckpointError {
        return 0
    } catch {
        fatalError("SafeTensors threw an error that is not a CheckpointError: \(error)")
    }
    let again: SafeTensors
    do {
        again = try SafeTensors(data: file.serialized(), file: "again.safetensors")
    } catch {
        fatalError("a parsed file does not parse again after serialization: \(error)")
    }
    guard again.names == file.names, again.metadata == file.metadata,
          file.names.allSatisfy({ again[$0]!.shape == file[$0]!.shape && again[$0]!.dtype == file[$0]!.dtype }) else {
        fatalError("serialization changed the names, metadata, dtypes or shapes")
    }
    for name in file.names { _ = file[name]!.tensor(as: Double.self) }
    for strict in [true, false] {
        do {
            try loadCheckpoint(into: model, from: file, fileName: "fuzz.safetensors", strict: strict)
        } catch is CheckpointError {
        } catch {
            fatalError("loadCheckpoint threw an error that is not a CheckpointError: \(error)")
        }
    }
    return 0
}

/// Hands `fuzzSafeTensors` to libFuzzer.
@main
enum FuzzSafeTensorsMain {
    static func main() { runFuzzer(fuzzSafeTensors) }
}
