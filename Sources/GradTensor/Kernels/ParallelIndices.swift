import Foundation

// Per-tensor passes over many tensors at once (an optimizer's step over the parameters, the
// monitor's statistics of each gradient): each index is one tensor's whole pass, computed as
// it would be alone, so results do not depend on the number of threads.

/// Runs `body(i)` for every `i` in `0..<count`: on up to `BLAS.swiftThreadCount` threads when
/// the summed `work(i)` (elements, say) is at least `minimumWork`, the largest first, each
/// thread taking the next index as it finishes one; otherwise in order on this thread.
///
/// `body(i)` must touch only what index `i` owns (its own tensor, its own result slot).
public func forEachIndex(_ count: Int, work: (Int) -> Int, minimumWork: Int = 1 << 17, _ body: (Int) -> Void) {
    let threads = Swift.min(gemmSwiftThreadCount, count)
    var total = 0
    for i in 0..<count { total += work(i) }
    guard threads >= 2, total >= minimumWork else {
        for i in 0..<count { body(i) }
        return
    }
    let queue = IndexQueue((0..<count).sorted { work($0) > work($1) })
    withoutActuallyEscaping(body) { body in
        // Shared by the threads, each calling it for indices no other thread takes.
        nonisolated(unsafe) let body = body
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            while let i = queue.next() { body(i) }
        }
    }
}

/// Hands out indices in a fixed order, one at a time, to the threads of `forEachIndex`.
private final class IndexQueue: @unchecked Sendable {
    private let order: [Int]
    private var position = 0
    private let lock = NSLock()

    init(_ order: [Int]) { self.order = order }

    func next() -> Int? {
        lock.withLock {
            guard position < order.count else { return nil }
            position += 1
            return order[position - 1]
        }
    }
}
