import GradTensor

/// Mini-batches of a data set, reshuffled each epoch from a seed.
///
/// Epoch `e`'s order is `RandomGenerator(seed: epochSeed(seed, e)).permutation(n)`, so any
/// epoch can be replayed on its own (a resumed run gets the same batches) and two seeds give
/// different orders. With `shuffle` off the order is `0..<n` every epoch. The order is cut into
/// consecutive batches of `batchSize`; the last one is smaller unless `dropLast` drops it
/// (as PyTorch's `DataLoader(drop_last=True)`, which also yields no batch when `n < batchSize`).
/// A `.full` batch is the data set itself, unshuffled, every epoch.
///
/// ```swift
/// let loader = DataLoader(data, batchSize: .size(32), seed: 7)
/// for epoch in 0..<10 { for batch in loader.batches(epoch: epoch) { /* batch: Dataset */ } }
/// ```
public struct DataLoader<Scalar: TensorScalar>: Sendable {
    /// How many examples a batch holds.
    public enum BatchSize: Sendable, Equatable, Hashable {
        /// All examples in one batch (full-batch gradient descent).
        case full
        /// At most this many examples per batch (≥ 1).
        case size(Int)
    }

    /// The examples batched.
    public let dataset: Dataset<Scalar>
    /// Examples per batch.
    public let batchSize: BatchSize
    /// Whether each epoch visits the examples in a new seeded order.
    public let shuffle: Bool
    /// Whether a last batch smaller than `batchSize` is dropped.
    public let dropLast: Bool
    /// The seed of the shuffling.
    public let seed: UInt64

    /// A loader over `dataset`.
    ///
    /// - Parameters:
    ///   - dataset: the examples.
    ///   - batchSize: `.full` or `.size(b)` with `b ≥ 1`.
    ///   - shuffle: reshuffle every epoch (default on, unlike PyTorch's `shuffle=False`: a
    ///     training loop wants it; ignored for `.full`).
    ///   - dropLast: drop an incomplete last batch (default off).
    ///   - seed: fixes every epoch's order.
    public init(_ dataset: Dataset<Scalar>, batchSize: BatchSize = .full, shuffle: Bool = true,
                dropLast: Bool = false, seed: UInt64 = 0) {
        if case .size(let size) = batchSize {
            precondition(size >= 1, "DataLoader: batch size must be at least 1, got \(size)")
        }
        self.dataset = dataset
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.dropLast = dropLast
        self.seed = seed
    }

    /// Batches in each epoch: `⌈n / b⌉`, or `⌊n / b⌋` with `dropLast`; 1 for `.full`.
    public var batchesPerEpoch: Int {
        switch batchSize {
        case .full: return 1
        case .size(let size):
            return dropLast ? dataset.count / size : (dataset.count + size - 1) / size
        }
    }

    /// The seed of epoch `epoch`'s permutation: the loader's seed and the epoch mixed by a
    /// SplitMix64 step, so neighbouring epochs and seeds give unrelated orders.
    public static func epochSeed(_ seed: UInt64, _ epoch: Int) -> UInt64 {
        var z = seed &+ (UInt64(bitPattern: Int64(epoch)) &+ 1) &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The order in which epoch `epoch` visits the examples (a permutation of `0..<n`).
    ///
    /// - Parameter epoch: the epoch number (any integer; 0 for the first).
    public func order(epoch: Int) -> [Int] {
        if case .full = batchSize { return Array(0..<dataset.count) }
        guard shuffle else { return Array(0..<dataset.count) }
        return RandomGenerator(seed: Self.epochSeed(seed, epoch)).permutation(dataset.count)
    }

    /// The example indices of each batch of epoch `epoch`.
    ///
    /// - Parameter epoch: the epoch number.
    public func batchIndices(epoch: Int) -> [[Int]] {
        let order = order(epoch: epoch)
        let size: Int
        switch batchSize {
        case .full: return [order]
        case .size(let value): size = value
        }
        return (0..<batchesPerEpoch).map { batch in
            Array(order[(batch * size)..<min((batch + 1) * size, order.count)])
        }
    }

    /// The batches of epoch `epoch`, each a `Dataset` (features, targets and labels of its
    /// examples), gathered one at a time as the sequence is iterated.
    ///
    /// - Parameter epoch: the epoch number.
    public func batches(epoch: Int) -> Batches {
        Batches(dataset: dataset, indices: batchIndices(epoch: epoch), isFull: batchSize == .full)
    }

    /// The batches of one epoch.
    public struct Batches: Sequence, Sendable {
        let dataset: Dataset<Scalar>
        /// The example indices of each batch.
        public let indices: [[Int]]
        let isFull: Bool

        /// Number of batches.
        public var count: Int { indices.count }

        /// An iterator gathering each batch when it is reached.
        public func makeIterator() -> Iterator { Iterator(batches: self) }

        /// Gathers batch after batch.
        public struct Iterator: IteratorProtocol {
            let batches: Batches
            var position = 0

            /// The next batch, or nil after the last.
            public mutating func next() -> Dataset<Scalar>? {
                guard position < batches.indices.count else { return nil }
                defer { position += 1 }
                if batches.isFull { return batches.dataset }
                return batches.dataset.subset(batches.indices[position])
            }
        }
    }
}
