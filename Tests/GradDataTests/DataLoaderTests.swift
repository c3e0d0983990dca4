import Testing
import GradData
import GradTensor

/// A data set whose feature is the example's index and whose label is index mod 3.
private func indexed(_ count: Int) -> Dataset<Double> {
    Dataset(features: Tensor(shape: [count, 1], scalars: (0..<count).map(Double.init)),
            targets: Tensor(shape: [count, 2], scalars: (0..<count).flatMap { [Double($0) * 2, Double($0) * 3] }),
            labels: (0..<count).map { $0 % 3 })
}

@Suite("Mini-batching")
struct DataLoaderTests {
    @Test("every epoch visits every index exactly once, in batches of the asked size")
    func coverage() {
        let loader = DataLoader(indexed(103), batchSize: .size(10), seed: 5)
        #expect(loader.batchesPerEpoch == 11)
        for epoch in 0..<5 {
            let batches = loader.batchIndices(epoch: epoch)
            #expect(batches.count == 11)
            #expect(batches.dropLast().allSatisfy { $0.count == 10 })
            #expect(batches.last?.count == 3)
            #expect(batches.flatMap { $0 }.sorted() == Array(0..<103))
        }
    }

    @Test("shuffling is reproducible by seed, and differs between seeds and between epochs")
    func reproducibility() {
        let data = indexed(50)
        let first = DataLoader(data, batchSize: .size(8), seed: 1)
        let same = DataLoader(data, batchSize: .size(8), seed: 1)
        let other = DataLoader(data, batchSize: .size(8), seed: 2)
        #expect(first.order(epoch: 0) == same.order(epoch: 0))
        #expect(first.order(epoch: 7) == same.order(epoch: 7))
        #expect(first.order(epoch: 0) != other.order(epoch: 0))
        #expect(first.order(epoch: 0) != first.order(epoch: 1))
        #expect(first.order(epoch: 0) != Array(0..<50))
        let unshuffled = DataLoader(data, batchSize: .size(8), shuffle: false, seed: 1)
        #expect(unshuffled.order(epoch: 3) == Array(0..<50))
    }

    @Test("batches gather the right rows of features, targets and labels")
    func gathering() {
        let loader = DataLoader(indexed(20), batchSize: .size(6), seed: 9)
        let batches = loader.batches(epoch: 2)
        #expect(batches.count == 4)
        var seen: [Int] = []
        for (batch, indices) in zip(batches, batches.indices) {
            #expect(batch.features.scalars == indices.map(Double.init))
            #expect(batch.targets.scalars == indices.flatMap { [Double($0) * 2, Double($0) * 3] })
            #expect(batch.labels == indices.map { $0 % 3 })
            #expect(batch.features.shape == [indices.count, 1])
            seen += indices
        }
        #expect(seen.sorted() == Array(0..<20))
    }

    @Test("drop-last drops the incomplete batch, and yields nothing when the set is smaller than a batch")
    func dropLast() {
        let loader = DataLoader(indexed(23), batchSize: .size(5), dropLast: true, seed: 0)
        #expect(loader.batchesPerEpoch == 4)
        let batches = loader.batchIndices(epoch: 0)
        #expect(batches.count == 4)
        #expect(batches.allSatisfy { $0.count == 5 })
        #expect(Set(batches.flatMap { $0 }).count == 20)
        let tooSmall = DataLoader(indexed(3), batchSize: .size(5), dropLast: true)
        #expect(tooSmall.batchIndices(epoch: 0).isEmpty)
        #expect(Array(tooSmall.batches(epoch: 0)).isEmpty)
        let kept = DataLoader(indexed(3), batchSize: .size(5))
        #expect(kept.batchIndices(epoch: 0).map { $0.count } == [3])
    }

    @Test("a full batch is the whole data set in order, every epoch")
    func fullBatch() {
        let data = indexed(12)
        let loader = DataLoader(data, batchSize: .full, seed: 4)
        #expect(loader.batchesPerEpoch == 1)
        let batches = Array(loader.batches(epoch: 3))
        #expect(batches.count == 1)
        #expect(batches[0].features.scalars == data.features.scalars)
        #expect(loader.batchIndices(epoch: 5) == [Array(0..<12)])
    }

    @Test("Dataset.subset and split keep rows together")
    func subsetAndSplit() {
        let data = indexed(10)
        let picked = data.subset([4, 1, 4])
        #expect(picked.features.scalars == [4, 1, 4])
        #expect(picked.targets.scalars == [8, 12, 2, 3, 8, 12])
        #expect(picked.labels == [1, 1, 1])
        let (train, validation) = data.split(validationFraction: 0.2, seed: 3)
        #expect(train.count == 8 && validation.count == 2)
        #expect(Set(train.features.scalars + validation.features.scalars).count == 10)
    }
}
