#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A learning rate as a function of the epoch, as PyTorch's `lr_scheduler` classes.
///
/// `η(epoch)` for `epoch ≥ 0`, with `η(0)` the initial rate; the caller sets it on the
/// optimizer at the start of each epoch (PyTorch calls `scheduler.step()` once per epoch,
/// after which the rate is `η(epoch)` for the epoch that follows).
/// - `learningRate(atEpoch:)`: the rate for a 0-based epoch.
public protocol LearningRateSchedule {
    /// The learning rate for `epoch` (0 is the first epoch, which uses the initial rate).
    func learningRate(atEpoch epoch: Int) -> Double
}

extension LearningRateSchedule {
    /// Sets the optimizer's learning rate for `epoch`: `optimizer.learningRate ← η(epoch)`.
    /// - Parameters:
    ///   - optimizer: the optimizer to update.
    ///   - epoch: the 0-based epoch about to run.
    public func apply<O: Optimizer>(to optimizer: O, epoch: Int) {
        optimizer.learningRate = O.Scalar(learningRate(atEpoch: epoch))
    }

    /// The rates for epochs `0..<count`: `[η(0), η(1), …]`.
    /// - Parameter count: the number of epochs.
    public func learningRates(epochs count: Int) -> [Double] {
        (0..<Swift.max(count, 0)).map { learningRate(atEpoch: $0) }
    }
}

@inline(__always)
func checkEpoch(_ epoch: Int, _ schedule: String) {
    precondition(epoch >= 0, "\(schedule).learningRate(atEpoch:): epoch \(epoch) is negative")
}

/// Decays the rate by `gamma` every `stepSize` epochs, as `torch.optim.lr_scheduler.StepLR`.
///
/// `η(e) = η₀ · γ^⌊e / stepSize⌋`.
/// - `initial`: η₀ > 0.
/// - `stepSize`: epochs between decays, ≥ 1.
/// - `gamma`: γ > 0 (default 0.1).
public struct StepLR: LearningRateSchedule, Sendable, Equatable {
    /// η₀, the rate of the first epoch.
    public let initial: Double
    /// The number of epochs between decays.
    public let stepSize: Int
    /// γ, the factor applied at each decay.
    public let gamma: Double

    /// Makes the schedule; throws `OptimizerError` for an argument outside its range.
    ///
    /// `η(e) = η₀ · γ^⌊e / stepSize⌋`.
    /// - Parameters:
    ///   - initial: η₀ > 0.
    ///   - stepSize: epochs between decays, ≥ 1.
    ///   - gamma: γ > 0.
    public init(initial: Double, stepSize: Int, gamma: Double = 0.1) throws {
        try Hyperparameter.positive("initial learning rate", initial)
        try Hyperparameter.positiveCount("step size", stepSize)
        try Hyperparameter.positive("gamma", gamma)
        self.initial = initial
        self.stepSize = stepSize
        self.gamma = gamma
    }

    /// `η₀ · γ^⌊epoch / stepSize⌋`.
    public func learningRate(atEpoch epoch: Int) -> Double {
        checkEpoch(epoch, "StepLR")
        return initial * pow(gamma, Double(epoch / stepSize))
    }
}

/// Decays the rate by `gamma` every epoch, as `torch.optim.lr_scheduler.ExponentialLR`.
///
/// `η(e) = η₀ · γᵉ`.
/// - `initial`: η₀ > 0.
/// - `gamma`: γ > 0.
public struct ExponentialLR: LearningRateSchedule, Sendable, Equatable {
    /// η₀, the rate of the first epoch.
    public let initial: Double
    /// γ, the factor applied each epoch.
    public let gamma: Double

    /// Makes the schedule; throws `OptimizerError` for an argument outside its range.
    ///
    /// `η(e) = η₀ · γᵉ`.
    /// - Parameters:
    ///   - initial: η₀ > 0.
    ///   - gamma: γ > 0.
    public init(initial: Double, gamma: Double) throws {
        try Hyperparameter.positive("initial learning rate", initial)
        try Hyperparameter.positive("gamma", gamma)
        self.initial = initial
        self.gamma = gamma
    }

    /// `η₀ · γ^epoch`.
    public func learningRate(atEpoch epoch: Int) -> Double {
        checkEpoch(epoch, "ExponentialLR")
        return initial * pow(gamma, Double(epoch))
    }
}

/// Anneals the rate along a half cosine from `initial` to `etaMin` over `tMax` epochs, as
/// `torch.optim.lr_scheduler.CosineAnnealingLR` (Loshchilov & Hutter 2017, SGDR, without restarts).
///
/// `η(e) = η_min + (η₀ − η_min) · (1 + cos(π·e / T_max)) / 2`; past `T_max` the cosine
/// continues (the rate rises again), as PyTorch's does.
/// - `initial`: η₀ > 0.
/// - `tMax`: T_max ≥ 1, the epochs of the half period.
/// - `etaMin`: η_min ≥ 0 (default 0).
public struct CosineAnnealingLR: LearningRateSchedule, Sendable, Equatable {
    /// η₀, the rate of the first epoch.
    public let initial: Double
    /// T_max, the number of epochs from η₀ down to η_min.
    public let tMax: Int
    /// η_min, the rate reached at epoch T_max.
    public let etaMin: Double

    /// Makes the schedule; throws `OptimizerError` for an argument outside its range.
    ///
    /// `η(e) = η_min + (η₀ − η_min) · (1 + cos(π·e / T_max)) / 2`.
    /// - Parameters:
    ///   - initial: η₀ > 0.
    ///   - tMax: T_max ≥ 1.
    ///   - etaMin: η_min ≥ 0.
    public init(initial: Double, tMax: Int, etaMin: Double = 0) throws {
        try Hyperparameter.positive("initial learning rate", initial)
        try Hyperparameter.positiveCount("tMax", tMax)
        try Hyperparameter.nonNegative("etaMin", etaMin)
        self.initial = initial
        self.tMax = tMax
        self.etaMin = etaMin
    }

    /// `η_min + (η₀ − η_min) · (1 + cos(π·epoch / T_max)) / 2`.
    public func learningRate(atEpoch epoch: Int) -> Double {
        checkEpoch(epoch, "CosineAnnealingLR")
        return etaMin + (initial - etaMin) * (1 + cos(Double.pi * Double(epoch) / Double(tMax))) / 2
    }
}

/// Scales the rate linearly from `startFactor·initial` to `endFactor·initial` over
/// `warmupEpochs` epochs and keeps it there, as `torch.optim.lr_scheduler.LinearLR`.
///
/// `η(e) = η₀ · (f₀ + (f₁ − f₀) · min(e, E) / E)` with E the warm-up epochs.
/// - `initial`: η₀ > 0.
/// - `warmupEpochs`: E ≥ 1.
/// - `startFactor`: f₀ in (0, 1] (default 1/3, as PyTorch).
/// - `endFactor`: f₁ in [0, 1] (default 1).
public struct LinearWarmup: LearningRateSchedule, Sendable, Equatable {
    /// η₀, the rate reached (times `endFactor`) at the end of the warm-up.
    public let initial: Double
    /// E, the number of epochs the factor moves over.
    public let warmupEpochs: Int
    /// f₀, the factor of the first epoch.
    public let startFactor: Double
    /// f₁, the factor from epoch E on.
    public let endFactor: Double

    /// Makes the schedule; throws `OptimizerError` for an argument outside its range.
    ///
    /// `η(e) = η₀ · (f₀ + (f₁ − f₀) · min(e, E) / E)`.
    /// - Parameters:
    ///   - initial: η₀ > 0.
    ///   - warmupEpochs: E ≥ 1.
    ///   - startFactor: f₀ in (0, 1].
    ///   - endFactor: f₁ in [0, 1].
    public init(initial: Double, warmupEpochs: Int, startFactor: Double = 1.0 / 3.0, endFactor: Double = 1) throws {
        try Hyperparameter.positive("initial learning rate", initial)
        try Hyperparameter.positiveCount("warmup epochs", warmupEpochs)
        try Hyperparameter.finite("start factor", startFactor)
        if !(startFactor > 0 && startFactor <= 1) {
            throw Hyperparameter.error("start factor", startFactor, "a number in (0, 1]")
        }
        try Hyperparameter.closedFraction("end factor", endFactor)
        self.initial = initial
        self.warmupEpochs = warmupEpochs
        self.startFactor = startFactor
        self.endFactor = endFactor
    }

    /// `η₀ · (f₀ + (f₁ − f₀) · min(epoch, E) / E)`.
    public func learningRate(atEpoch epoch: Int) -> Double {
        checkEpoch(epoch, "LinearWarmup")
        let progress = Double(Swift.min(epoch, warmupEpochs)) / Double(warmupEpochs)
        return initial * (startFactor + (endFactor - startFactor) * progress)
    }
}
