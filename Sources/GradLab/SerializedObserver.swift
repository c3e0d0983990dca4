import Foundation
import GradNN

/// Passes a training observer's calls on one at a time, for runs on several threads.
final class SerializedObserver: TrainingObserver, @unchecked Sendable {
    private let observer: any TrainingObserver
    private let lock = NSLock()

    init(_ observer: any TrainingObserver) { self.observer = observer }

    func trainer(didTake step: TrainingStep, model: any Module<Float>) {
        lock.withLock { observer.trainer(didTake: step, model: model) }
    }

    func trainer(didFinish epoch: TrainingEpoch, model: any Module<Float>) {
        lock.withLock { observer.trainer(didFinish: epoch, model: model) }
    }

    func trainerShouldStop() -> Bool { lock.withLock { observer.trainerShouldStop() } }
}
