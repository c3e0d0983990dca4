import GradTensor
import RealModule

// The sequence tasks of the recurrent-network literature: the adding problem, the copy task and
// sequence parity. Each is a seeded `Dataset` whose examples are batch-first sequences
// `[steps, channels]`; since a `Dataset` holds one row of features per example, the row is the
// sequence in row-major order (step after step, the channels of a step side by side), so
// `dataset.sequences(channels:)` (a reshape, no copy) gives the `[N, T, channels]` tensor a
// recurrent layer with `batch_first` takes, and an MLP can read the flat rows as they are.

/// The shape of a sequence task's examples: `steps` time steps of `channels` features each.
public struct SequenceLayout: Sendable, Equatable {
    /// Time steps per example (T).
    public var steps: Int
    /// Features per time step.
    public var channels: Int

    /// A layout of `steps` × `channels`.
    public init(steps: Int, channels: Int) {
        self.steps = steps
        self.channels = channels
    }

    /// Features per example in the flat rows: `steps · channels`.
    public var width: Int { steps * channels }
}

extension Dataset {
    /// The features as batch-first sequences `[n, steps, channels]`, where `steps` is the row
    /// width divided by `channels` (a reshape of the rows; see `SyntheticData.adding`).
    ///
    /// - Parameter channels: features per time step; must divide the row width.
    public func sequences(channels: Int) -> Tensor<Scalar> {
        let width = features.shape[1]
        precondition(channels >= 1 && width % channels == 0,
                     "Dataset.sequences: \(channels) channels do not divide the row width \(width) (features \(features.shape))")
        return features.reshaped([count, width / channels, channels])
    }
}

extension SyntheticData {
    /// The most elements (examples × steps × channels) one sequence task may hold.
    public static let sequenceElementLimit = 1 << 30

    /// The constant-prediction baseline of the adding problem: predicting the mean 1 for every
    /// example leaves MSE = Var(u₁ + u₂) = 2 · 1/12 = 1/6.
    public static let addingBaselineMSE = 1.0 / 6.0

    /// The adding problem (Hochreiter & Schmidhuber 1997), in the common modern form
    /// (Le et al. 2015, Arjovsky et al. 2016): every step carries two channels, a value
    /// `u_t ~ U(0, 1)` (channel 0) and a marker (channel 1) that is 1 at exactly two steps, one
    /// in the first half `0 ..< ⌊T/2⌋` and one in the second half `⌊T/2⌋ ..< T`, and 0 elsewhere.
    /// The target `[n, 1]` is the sum of the two marked values.
    ///
    /// Layout: features `[n, 2T]` holding the sequences `[n, T, 2]` row-major (column `2t` is
    /// `u_t`, column `2t + 1` the marker); `sequences(channels: 2)` gives `[n, T, 2]`.
    /// Predicting the constant 1 scores `addingBaselineMSE` = 1/6; a model that solves the task
    /// scores far below it. Draws per example, in order: the T values, the first marked step
    /// (uniform in the first half), the second (uniform in the second half).
    ///
    /// - Parameters:
    ///   - count: examples, ≥ 1.
    ///   - length: time steps T, ≥ 2 (one marked step in each half).
    ///   - seed: fixes the draw.
    ///   - type: the element type of the tensors.
    /// - Throws: `DataError` (file `adding`, `badArgument`) for a count or length out of range.
    public static func adding<Scalar: TensorScalar>(
        count: Int = 1000, length: Int = 50, seed: UInt64 = 0, as type: Scalar.Type = Scalar.self
    ) throws(DataError) -> Dataset<Scalar> {
        let task = "adding"
        try requireSequence(task, count: count, steps: length, minimumSteps: 2, channels: 2,
                            stepsRule: "one marked step in each half")
        let rng = RandomGenerator(seed: seed)
        let half = length / 2
        var features = [Scalar](repeating: 0, count: count * length * 2)
        var targets = [Scalar](repeating: 0, count: count)
        for example in 0..<count {
            let row = example * length * 2
            var values = [Double](repeating: 0, count: length)
            for t in 0..<length {
                values[t] = rng.nextUnitDouble()
                features[row + 2 * t] = Scalar(values[t])
            }
            let first = uniformIndex(rng, half)
            let second = half + uniformIndex(rng, length - half)
            features[row + 2 * first + 1] = 1
            features[row + 2 * second + 1] = 1
            targets[example] = Scalar(values[first] + values[second])
        }
        return Dataset(features: Tensor(shape: [count, length * 2], scalars: features),
                       targets: Tensor(shape: [count, 1], scalars: targets))
    }

    /// The cross-entropy per step of the best memoryless strategy on the copy task: blank
    /// (certain) for the first `length + delay` steps, then a uniform guess among the
    /// `symbols`: `length · ln(symbols) / (2·length + delay)` (Arjovsky et al. 2016).
    ///
    /// - Parameters:
    ///   - symbols: the alphabet size.
    ///   - length: symbols to copy.
    ///   - delay: the steps between the last symbol and the first recall step.
    public static func copyTaskBaselineCrossEntropy(symbols: Int, length: Int, delay: Int) -> Double {
        Double(length) * Double.log(Double(symbols)) / Double(2 * length + delay)
    }

    /// The copy task (Hochreiter & Schmidhuber 1997; the form of Arjovsky et al. 2016):
    /// remember `length` symbols, wait `delay` steps, then reproduce them.
    ///
    /// Classes: 0 is the blank, 1 … `symbols` the data symbols, `symbols + 1` the delimiter.
    /// An example has `T = 2·length + delay` steps:
    /// - steps `0 ..< length`: the symbols `s_i`, drawn uniformly from 1 … `symbols`;
    /// - steps `length ..< length + delay − 1`: blanks;
    /// - step `length + delay − 1`: the delimiter (the cue to start recalling);
    /// - steps `length + delay ..< T`: blanks.
    ///
    /// Inputs are one-hot over the `symbols + 2` classes: features `[n, T·(symbols + 2)]`, the
    /// sequences `[n, T, symbols + 2]` row-major (`sequences(channels: symbols + 2)`). Targets
    /// `[n, T]` are the class index wanted at each step (integer values): blank (0) at the first
    /// `length + delay` steps, then `s_0, …, s_{length−1}`. A memoryless model scores
    /// `copyTaskBaselineCrossEntropy` per step. `labels` is nil (the targets are per step).
    ///
    /// - Parameters:
    ///   - count: examples, ≥ 1.
    ///   - symbols: the alphabet size, ≥ 1 (8 in Arjovsky et al.).
    ///   - length: symbols to copy, ≥ 1 (10 in Arjovsky et al.).
    ///   - delay: steps from the last symbol to the delimiter inclusive, ≥ 1 (their T).
    ///   - seed: fixes the symbols.
    ///   - type: the element type of the tensors.
    /// - Throws: `DataError` (file `copy`, `badArgument`) for an argument out of range.
    public static func copyTask<Scalar: TensorScalar>(
        count: Int = 1000, symbols: Int = 8, length: Int = 10, delay: Int = 20, seed: UInt64 = 0,
        as type: Scalar.Type = Scalar.self
    ) throws(DataError) -> Dataset<Scalar> {
        let task = "copy"
        guard symbols >= 1 else { throw bad(task, "symbols must be at least 1, got \(symbols)") }
        guard length >= 1 else { throw bad(task, "length (symbols to copy) must be at least 1, got \(length)") }
        guard delay >= 1 else { throw bad(task, "delay must be at least 1 (the delimiter's step), got \(delay)") }
        let (steps, overflow) = (2 * length).addingReportingOverflow(delay)
        let channels = symbols + 2
        guard !overflow else { throw bad(task, "length \(length) and delay \(delay) make too many steps") }
        try requireSequence(task, count: count, steps: steps, minimumSteps: 3, channels: channels, stepsRule: "")
        let rng = RandomGenerator(seed: seed)
        var features = [Scalar](repeating: 0, count: count * steps * channels)
        var targets = [Scalar](repeating: 0, count: count * steps)
        for example in 0..<count {
            let row = example * steps * channels
            var classes = [Int](repeating: 0, count: steps)
            for i in 0..<length {
                let symbol = 1 + uniformIndex(rng, symbols)
                classes[i] = symbol
                targets[example * steps + length + delay + i] = Scalar(symbol)
            }
            classes[length + delay - 1] = symbols + 1
            for t in 0..<steps { features[row + t * channels + classes[t]] = 1 }
        }
        return Dataset(features: Tensor(shape: [count, steps * channels], scalars: features),
                       targets: Tensor(shape: [count, steps], scalars: targets))
    }

    /// Sequence parity: `length` random bits fed one per step, the target their parity (XOR),
    /// either of the whole sequence or, with `running`, of every prefix.
    ///
    /// Features `[n, length]`: the sequences `[n, length, 1]` (`sequences(channels: 1)`), bits
    /// 0/1, or −1/+1 with `signed`. Targets: `[n, 1]` the parity `b_0 ⊕ … ⊕ b_{T−1}` as 0/1 with
    /// `labels` the same parity; with `running`, `[n, length]` the prefix parities
    /// `p_t = b_0 ⊕ … ⊕ b_t` and `labels` nil. Bit `t` of example `i` is the top bit of the
    /// generator's `(i·length + t)`-th draw. (`SyntheticData.parity` is the same task as one
    /// flat pattern of features; this is its sequence form.)
    ///
    /// - Parameters:
    ///   - count: examples, ≥ 1.
    ///   - length: bits per sequence, ≥ 1.
    ///   - running: targets every prefix's parity instead of the whole sequence's.
    ///   - signed: bits as −1/+1 instead of 0/1.
    ///   - seed: fixes the bits.
    ///   - type: the element type of the tensors.
    /// - Throws: `DataError` (file `parity_sequence`, `badArgument`) for a count or length out of range.
    public static func paritySequence<Scalar: TensorScalar>(
        count: Int = 1000, length: Int = 20, running: Bool = false, signed: Bool = false, seed: UInt64 = 0,
        as type: Scalar.Type = Scalar.self
    ) throws(DataError) -> Dataset<Scalar> {
        try requireSequence("parity_sequence", count: count, steps: length, minimumSteps: 1, channels: 1, stepsRule: "")
        let rng = RandomGenerator(seed: seed)
        let zero: Scalar = signed ? -1 : 0
        var features = [Scalar](repeating: 0, count: count * length)
        var targets = [Scalar](repeating: 0, count: running ? count * length : count)
        var labels: [Int] = []
        labels.reserveCapacity(running ? 0 : count)
        for example in 0..<count {
            var parity = 0
            for t in 0..<length {
                let bit = Int(rng.next() >> 63)
                parity ^= bit
                features[example * length + t] = bit == 1 ? 1 : zero
                if running { targets[example * length + t] = Scalar(parity) }
            }
            if !running {
                targets[example] = Scalar(parity)
                labels.append(parity)
            }
        }
        return Dataset(features: Tensor(shape: [count, length], scalars: features),
                       targets: Tensor(shape: [count, running ? length : 1], scalars: targets),
                       labels: running ? nil : labels)
    }

    /// A uniform index in `0 ..< n` (n ≥ 1) by rejection, without modulo bias.
    private static func uniformIndex(_ rng: RandomGenerator, _ n: Int) -> Int {
        let bound = UInt64(n)
        let limit = UInt64.max - UInt64.max % bound
        while true {
            let x = rng.next()
            if x < limit { return Int(x % bound) }
        }
    }

    /// Checks a sequence task's count, steps and total size.
    private static func requireSequence(_ task: String, count: Int, steps: Int, minimumSteps: Int, channels: Int,
                                        stepsRule: String) throws(DataError) {
        guard count >= 1 else { throw bad(task, "count must be at least 1, got \(count)") }
        guard steps >= minimumSteps else {
            throw bad(task, "length must be at least \(minimumSteps)" + (stepsRule.isEmpty ? "" : " (\(stepsRule))") + ", got \(steps)")
        }
        let (perExample, o1) = steps.multipliedReportingOverflow(by: channels)
        let (total, o2) = perExample.multipliedReportingOverflow(by: count)
        guard !o1 && !o2 && total <= sequenceElementLimit else {
            throw bad(task, "\(count) examples × \(steps) steps × \(channels) channels exceed \(sequenceElementLimit) elements")
        }
    }

    /// A `DataError` about a sequence task's arguments: `task: bad argument: problem`.
    private static func bad(_ task: String, _ problem: String) -> DataError {
        DataError(file: task, location: .file, reason: .badArgument(problem))
    }
}
