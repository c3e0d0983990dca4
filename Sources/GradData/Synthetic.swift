import GradTensor
import RealModule

/// A supervised data set held in memory: one row of `features` per example, and either
/// regression `targets` or integer class `labels`.
public struct Dataset<Scalar: TensorScalar>: Sendable {
    /// `[examples, features]`.
    public let features: Tensor<Scalar>
    /// `[examples, outputs]` regression or binary targets.
    public let targets: Tensor<Scalar>
    /// Class labels for classification sets (`nil` for regression).
    public let labels: [Int]?

    /// A data set from features and targets (and labels for classification).
    public init(features: Tensor<Scalar>, targets: Tensor<Scalar>, labels: [Int]? = nil) {
        precondition(features.rank == 2 && targets.rank == 2 && features.shape[0] == targets.shape[0],
                     "Dataset: features \(features.shape) and targets \(targets.shape) must be [n, d] with the same n")
        self.features = features
        self.targets = targets
        self.labels = labels
    }

    /// Number of examples.
    public var count: Int { features.shape[0] }
}

/// The synthetic sets of the seed articles.
public enum SyntheticData {
    /// The seeds' regression line: `y = slope·x + intercept + noise·ε` with `x, ε ~ N(0, 1)`,
    /// drawn in that order (all `x`, then all `ε`).
    ///
    /// - Parameters:
    ///   - count: number of points (the seeds use 100).
    ///   - slope, intercept, noise: the line and the noise's standard deviation (3, 2, 0.5).
    ///   - seed: fixes the draw.
    public static func linear<Scalar: TensorScalar>(
        count: Int = 100, slope: Double = 3, intercept: Double = 2, noise: Double = 0.5, seed: UInt64 = 0,
        as type: Scalar.Type = Scalar.self
    ) -> Dataset<Scalar> {
        let rng = RandomGenerator(seed: seed)
        let x = (0..<count).map { _ in rng.nextNormal() }
        let y = x.map { slope * $0 + intercept + noise * rng.nextNormal() }
        return Dataset(features: Tensor(shape: [count, 1], scalars: x.map { Scalar($0) }),
                       targets: Tensor(shape: [count, 1], scalars: y.map { Scalar($0) }))
    }

    /// The two-armed spiral of CS231n (used by the seeds' article): for class `c` in {0, 1},
    /// `r = linspace(0, 1, n)`, `θ = linspace(4c, 4(c + 1), n) + 0.2·ε`, point `r·(sin θ, cos θ)`.
    /// Targets are the class as 0/1 (`[count, 1]`), labels the class index.
    ///
    /// - Parameters:
    ///   - count: total points, split evenly between the arms (the seeds use 1000).
    ///   - classes: number of arms (2 for the binary task).
    ///   - seed: fixes the angle noise.
    public static func spiral<Scalar: TensorScalar>(
        count: Int = 1000, classes: Int = 2, seed: UInt64 = 0, as type: Scalar.Type = Scalar.self
    ) -> Dataset<Scalar> {
        precondition(classes >= 2 && count >= classes, "spiral: need at least 2 classes and one point per class")
        let rng = RandomGenerator(seed: seed)
        let perClass = count / classes
        var xs: [Scalar] = [], labels: [Int] = []
        for c in 0..<classes {
            for i in 0..<perClass {
                let fraction = perClass > 1 ? Double(i) / Double(perClass - 1) : 0
                let r = fraction
                let theta = Double(c) * 4 + 4 * fraction + 0.2 * rng.nextNormal()
                xs += [Scalar(r * Double.sin(theta)), Scalar(r * Double.cos(theta))]
                labels.append(c)
            }
        }
        let n = labels.count
        return Dataset(features: Tensor(shape: [n, 2], scalars: xs),
                       targets: Tensor(shape: [n, 1], scalars: labels.map { Scalar($0) }),
                       labels: labels)
    }
}
