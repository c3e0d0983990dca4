import Foundation
import Testing
import GradData
import GradTensor

@Suite("Sequence tasks")
struct SequenceTaskTests {
    @Test("adding problem: shapes, two markers per row (one per half), target = sum of the marked values")
    func addingLayout() throws {
        for length in [2, 3, 50, 101] {
            let data = try SyntheticData.adding(count: 64, length: length, seed: 1, as: Double.self)
            #expect(data.features.shape == [64, 2 * length])
            #expect(data.targets.shape == [64, 1])
            #expect(data.labels == nil)
            let sequences = data.sequences(channels: 2)
            #expect(sequences.shape == [64, length, 2])
            let x = sequences.scalars, y = data.targets.scalars
            let half = length / 2
            for n in 0..<64 {
                let base = n * length * 2
                let marked = (0..<length).filter { x[base + 2 * $0 + 1] != 0 }
                #expect(marked.count == 2, "row \(n): markers at \(marked)")
                #expect((0..<length).allSatisfy { [0, 1].contains(x[base + 2 * $0 + 1]) })
                guard marked.count == 2 else { continue }
                #expect(marked[0] < half && marked[1] >= half, "row \(n): markers \(marked), half \(half)")
                #expect(y[n] == x[base + 2 * marked[0]] + x[base + 2 * marked[1]])
                #expect((0..<length).allSatisfy { x[base + 2 * $0] >= 0 && x[base + 2 * $0] < 1 })
            }
        }
    }

    @Test("adding problem: targets have mean 1 and variance 1/6, so the constant baseline's MSE is 1/6")
    func addingStatistics() throws {
        let data = try SyntheticData.adding(count: 20_000, length: 20, seed: 7, as: Double.self)
        let y = data.targets.scalars
        let mean = y.reduce(0, +) / Double(y.count)
        let variance = y.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(y.count)
        // Standard errors: mean √(1/6/n) ≈ 0.003, variance ≈ 0.0013 (Var of a sum of two uniforms).
        #expect(abs(mean - 1) < 0.015, "mean \(mean)")
        #expect(abs(variance - SyntheticData.addingBaselineMSE) < 0.006, "variance \(variance)")
        let constantMSE = y.reduce(0) { $0 + ($1 - 1) * ($1 - 1) } / Double(y.count)
        #expect(abs(constantMSE - 1.0 / 6.0) < 0.006)
        // The marked positions are spread over each half, not stuck at one place.
        let x = data.features.scalars
        let firstPositions = Set((0..<200).compactMap { n in (0..<20).first { x[n * 40 + 2 * $0 + 1] == 1 } })
        #expect(firstPositions.count == 10, "first markers at \(firstPositions.sorted())")
    }

    @Test("copy task: one-hot inputs, blanks then the symbols as per-step labels, delimiter in place")
    func copyLayout() throws {
        let (symbols, length, delay) = (4, 3, 5)
        let data = try SyntheticData.copyTask(count: 50, symbols: symbols, length: length, delay: delay, seed: 2, as: Float.self)
        let steps = 2 * length + delay, channels = symbols + 2
        #expect(data.features.shape == [50, steps * channels])
        #expect(data.targets.shape == [50, steps])
        #expect(data.labels == nil)
        let x = data.sequences(channels: channels).scalars, y = data.targets.scalars
        var seen = Set<Int>()
        for n in 0..<50 {
            var inputClasses: [Int] = []
            for t in 0..<steps {
                let row = Array(x[((n * steps + t) * channels)..<((n * steps + t + 1) * channels)])
                #expect(row.filter { $0 == 1 }.count == 1 && row.filter { $0 == 0 }.count == channels - 1, "not one-hot at \(n), \(t)")
                inputClasses.append(row.firstIndex(of: 1) ?? -1)
            }
            let targets = (0..<steps).map { Int(y[n * steps + $0]) }
            let remembered = Array(inputClasses[0..<length])
            #expect(remembered.allSatisfy { (1...symbols).contains($0) })
            // Blanks while the symbols are shown and during the delay; the delimiter last.
            #expect(inputClasses[length..<(length + delay - 1)].allSatisfy { $0 == 0 })
            #expect(inputClasses[length + delay - 1] == symbols + 1)
            #expect(inputClasses[(length + delay)...].allSatisfy { $0 == 0 })
            // The labels: blank until the recall, then exactly the remembered symbols.
            #expect(targets[0..<(length + delay)].allSatisfy { $0 == 0 })
            #expect(Array(targets[(length + delay)...]) == remembered)
            seen.formUnion(remembered)
        }
        #expect(seen == Set(1...symbols))
        let baseline = SyntheticData.copyTaskBaselineCrossEntropy(symbols: 8, length: 10, delay: 20)
        #expect(abs(baseline - 10 * log(8.0) / 40) < 1e-12)
    }

    @Test("parity sequence: final and running parity of the bits")
    func parityLayout() throws {
        let data = try SyntheticData.paritySequence(count: 100, length: 9, seed: 4, as: Double.self)
        #expect(data.features.shape == [100, 9] && data.targets.shape == [100, 1])
        #expect(data.sequences(channels: 1).shape == [100, 9, 1])
        let x = rows(data.features)
        let labels = try #require(data.labels)
        for (bits, label) in zip(x, labels) {
            #expect(bits.allSatisfy { $0 == 0 || $0 == 1 })
            #expect(Int(bits.reduce(0, +)) % 2 == label)
        }
        #expect(data.targets.scalars == labels.map(Double.init))
        // Both parities occur, about evenly.
        #expect(labels.filter { $0 == 1 }.count > 30 && labels.filter { $0 == 0 }.count > 30)

        let running = try SyntheticData.paritySequence(count: 100, length: 9, running: true, seed: 4, as: Double.self)
        #expect(running.features.scalars == data.features.scalars, "same seed, same bits")
        #expect(running.targets.shape == [100, 9] && running.labels == nil)
        let prefixes = rows(running.targets)
        for (bits, prefix) in zip(x, prefixes) {
            var parity = 0
            for (bit, p) in zip(bits, prefix) {
                parity ^= Int(bit)
                #expect(Int(p) == parity)
            }
        }
        #expect(prefixes.map { Int($0.last!) } == labels)

        let signed = try SyntheticData.paritySequence(count: 20, length: 5, signed: true, seed: 4, as: Float.self)
        #expect(signed.features.scalars.allSatisfy { $0 == 1 || $0 == -1 })
    }

    @Test("every task is reproducible from its seed and changes with it")
    func seeds() throws {
        let a1 = try SyntheticData.adding(count: 30, length: 10, seed: 5, as: Float.self)
        let a2 = try SyntheticData.adding(count: 30, length: 10, seed: 5, as: Float.self)
        let a3 = try SyntheticData.adding(count: 30, length: 10, seed: 6, as: Float.self)
        #expect(a1.features.scalars == a2.features.scalars && a1.targets.scalars == a2.targets.scalars)
        #expect(a1.features.scalars != a3.features.scalars)
        let c1 = try SyntheticData.copyTask(count: 30, seed: 5, as: Float.self)
        let c2 = try SyntheticData.copyTask(count: 30, seed: 5, as: Float.self)
        let c3 = try SyntheticData.copyTask(count: 30, seed: 6, as: Float.self)
        #expect(c1.features.scalars == c2.features.scalars && c1.targets.scalars == c2.targets.scalars)
        #expect(c1.targets.scalars != c3.targets.scalars)
        let p1 = try SyntheticData.paritySequence(count: 30, length: 12, seed: 5, as: Float.self)
        let p2 = try SyntheticData.paritySequence(count: 30, length: 12, seed: 5, as: Float.self)
        let p3 = try SyntheticData.paritySequence(count: 30, length: 12, seed: 6, as: Float.self)
        #expect(p1.features.scalars == p2.features.scalars)
        #expect(p1.features.scalars != p3.features.scalars)
    }

    @Test("bad arguments give a one-line DataError naming the task and the argument")
    func badArguments() {
        let cases: [(String, () throws -> Any)] = [
            ("adding: bad argument: length must be at least 2 (one marked step in each half), got 1",
             { try SyntheticData.adding(count: 10, length: 1, as: Float.self) }),
            ("adding: bad argument: count must be at least 1, got 0", { try SyntheticData.adding(count: 0, length: 5, as: Float.self) }),
            ("copy: bad argument: symbols must be at least 1, got 0", { try SyntheticData.copyTask(symbols: 0, as: Float.self) }),
            ("copy: bad argument: length (symbols to copy) must be at least 1, got 0",
             { try SyntheticData.copyTask(length: 0, as: Float.self) }),
            ("copy: bad argument: delay must be at least 1 (the delimiter's step), got 0",
             { try SyntheticData.copyTask(delay: 0, as: Float.self) }),
            ("parity_sequence: bad argument: length must be at least 1, got 0",
             { try SyntheticData.paritySequence(length: 0, as: Float.self) }),
            ("parity_sequence: bad argument: count must be at least 1, got -3",
             { try SyntheticData.paritySequence(count: -3, as: Float.self) }),
        ]
        for (message, body) in cases {
            let error = dataError(body)
            #expect(error?.description == message)
            #expect(error?.description.contains("\n") == false)
        }
        let huge = dataError { try SyntheticData.adding(count: 1 << 40, length: 1 << 20, as: Float.self) }
        #expect(huge?.description.hasPrefix("adding: bad argument:") == true && huge?.description.contains("exceed") == true)
    }
}
