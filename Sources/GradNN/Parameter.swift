import GradTensor

/// A learnable tensor owned by a module: a leaf that requires a gradient.
///
/// A reference type, so that the module, the optimizer and the monitor all see the same
/// values; an optimizer writes `value` in place after each step.
public final class Parameter<Scalar: TensorScalar> {
    /// The current values; a leaf tensor that requires a gradient.
    @inlinable public var value: Tensor<Scalar> { tensor }

    /// Stored apart from `value` so that the inlinable `update` may write it.
    // The accessors that a training step calls on every parameter are inlinable: optimizers
    // and trainers call them from other modules, where generic code would run unspecialized.
    @exclusivity(unchecked) @usableFromInline var tensor: Tensor<Scalar>

    /// Wraps `value` as a learnable leaf.
    public init(_ value: Tensor<Scalar>) {
        var v = value.detached()
        v.requiresGrad = true
        self.tensor = v
    }

    /// The accumulated gradient, or nil after `zeroGrad()` or before the first backward pass.
    public var grad: Tensor<Scalar>? {
        @inlinable get { tensor.grad }
        set { tensor.grad = newValue }
    }

    /// Set before an optimizer step (the monitor does) to have the step also measure its own
    /// size: `lastUpdate` then holds `‖θ_new − θ_old‖²` and `‖θ_old‖²`, computed in the same pass
    /// as the update, so that the update/weight ratio costs no copy of the weights.
    public var measuresUpdate = false

    /// What the last measured optimizer step did to this parameter (see `measuresUpdate`);
    /// nil until one was measured.
    public var lastUpdate: UpdateNorms?

    /// The shape of the parameter.
    @inlinable public var shape: [Int] { tensor.shape }

    /// Clears the gradient (PyTorch's `set_to_none=True`).
    @inlinable public func zeroGrad() { tensor.zeroGrad() }

    /// Replaces the values, keeping this parameter's identity and gradient; the shape must match.
    public func assign(_ newValue: Tensor<Scalar>) {
        precondition(newValue.shape == value.shape,
                     "assign: new value shape \(newValue.shape) does not match parameter shape \(value.shape)")
        let source = newValue.detached()
        tensor.withUnsafeMutableBufferPointer { dst in
            source.withUnsafeBufferPointer { src in dst.baseAddress!.update(from: src.baseAddress!, count: src.count) }
        }
    }

    /// Writes the values in place (optimizers, initializers); not recorded by autodiff.
    @inlinable
    public func update(_ body: (UnsafeMutableBufferPointer<Scalar>) throws -> Void) rethrows {
        try tensor.withUnsafeMutableBufferPointer(body)
    }
}

/// The size of one optimizer step on one parameter: `‖Δθ‖²` and `‖θ‖²` before the step.
public struct UpdateNorms: Sendable, Equatable {
    /// `Σ (θ_new − θ_old)²`.
    public var squaredStep: Double
    /// `Σ θ_old²`.
    public var squaredWeight: Double

    /// Norms from their parts.
    public init(squaredStep: Double, squaredWeight: Double) {
        self.squaredStep = squaredStep
        self.squaredWeight = squaredWeight
    }
}
