import GradTensor

/// Runs its modules in order; parameters are named `0.weight`, `0.bias`, `2.weight`, ... as in
/// PyTorch's `nn.Sequential`.
///
/// Runs of `Linear` layers, each optionally followed by an elementwise activation layer
/// (`ElementwiseActivation`), are computed as one fused op (`linearChain`): the same values
/// and gradients as running the layers one by one, with far less per-layer bookkeeping, which
/// is most of the cost of a small network. The layers' hooks still run: forward hooks see the
/// layer's input and output (not recorded by autodiff), output-gradient hooks the gradient with
/// respect to the layer's output. Set `fusesLinearChains` to false to run every layer on its own.
/// Each fused run keeps a `LinearChainWorkspace`, so that a training loop reuses its buffers
/// from one step to the next; a model is therefore not for use from two threads at once.
public final class Sequential<Scalar: TensorScalar>: Module {
    public private(set) var layers: [any Module<Scalar>] { didSet { plan = nil } }
    public var isTraining = true
    public let hooks = ModuleHooks<Scalar>()
    /// Whether runs of `Linear` and activation layers run as one fused op (default true).
    public var fusesLinearChains = true

    /// The layers grouped into single layers and fusable runs; built on first use.
    private var plan: [Segment]?

    private enum Segment {
        case layer(any Module<Scalar>)
        case chain([ChainStep], LinearChainWorkspace)
    }

    /// A `Linear` and the elementwise activation after it, if any.
    private struct ChainStep {
        let linear: Linear<Scalar>
        let activation: (any ElementwiseActivation<Scalar>)?
        let op: UnaryOp<Scalar>?
    }

    public init(_ layers: [any Module<Scalar>]) { self.layers = layers }
    public convenience init(_ layers: any Module<Scalar>...) { self.init(layers) }

    /// Appends a module at the end.
    public func append(_ layer: any Module<Scalar>) { layers.append(layer) }

    public func forward(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        // Run the Float specialization: called from another module, this generic method runs
        // unspecialized, and asks the runtime for type metadata on most lines.
        if Scalar.self == Float.self {
            let specialized = unsafeDowncast(self, to: Sequential<Float>.self)
            return unsafeBitCast(specialized.forwardBody(unsafeBitCast(input, to: Tensor<Float>.self)), to: Tensor<Scalar>.self)
        }
        return forwardBody(input)
    }

    func forwardBody(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        var x = input
        if !fusesLinearChains {
            for layer in layers { x = layer(x) }
            return x
        }
        if plan == nil { plan = makePlan() }
        for segment in plan! {
            switch segment {
            case .layer(let layer): x = layer(x)
            case .chain(let steps, let workspace): x = runChain(steps, workspace, x)
            }
        }
        return x
    }

    /// Groups `layers` into maximal runs of `Linear` (+ activation) covering at least two
    /// layers; everything else runs on its own.
    private func makePlan() -> [Segment] {
        var segments: [Segment] = []
        var run: [ChainStep] = []
        func flush() {
            if run.count == 1 && run[0].activation == nil {
                segments.append(.layer(run[0].linear))
            } else if !run.isEmpty {
                segments.append(.chain(run, LinearChainWorkspace()))
            }
            run = []
        }
        var i = 0
        while i < layers.count {
            guard let linear = layers[i] as? Linear<Scalar> else {
                flush()
                segments.append(.layer(layers[i]))
                i += 1
                continue
            }
            let activation = i + 1 < layers.count ? layers[i + 1] as? any ElementwiseActivation<Scalar> : nil
            run.append(ChainStep(linear: linear, activation: activation, op: activation?.elementwiseOp))
            i += activation == nil ? 1 : 2
        }
        flush()
        return segments
    }

    private func runChain(_ steps: [ChainStep], _ workspace: LinearChainWorkspace, _ x: Tensor<Scalar>) -> Tensor<Scalar> {
        let stages = steps.map {
            LinearChainStage(weight: $0.linear.weight.value, bias: $0.linear.bias?.value, activation: $0.op)
        }
        var observer: LinearChainObserver<Scalar>?
        if steps.contains(where: { !$0.linear.hooks.isEmpty || $0.activation?.hooks.isEmpty == false }) {
            observer = LinearChainObserver(
                forward: { index, input, affine, output in
                    let step = steps[index]
                    step.linear.hooks.runForwardHooks(module: step.linear, input: input, output: affine)
                    if let activation = step.activation {
                        activation.hooks.runForwardHooks(module: activation, input: affine, output: output)
                    }
                },
                outputGradients: { index, outputGradient, affineGradient in
                    let step = steps[index]
                    if let activation = step.activation {
                        activation.hooks.runOutputGradientHooks(module: activation, gradient: outputGradient)
                    }
                    step.linear.hooks.runOutputGradientHooks(module: step.linear, gradient: affineGradient)
                })
        }
        return linearChain(x, stages, observer: observer, workspace: workspace)
    }

    public var children: [(String, any Module<Scalar>)] {
        layers.enumerated().map { (String($0.offset), $0.element) }
    }

    public var summary: String {
        // A nested container's lines are indented by two more spaces, as PyTorch does.
        "Sequential(\n" + layers.enumerated().map {
            "  (\($0.offset)): " + $0.element.summary.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n  ")
        }.joined(separator: "\n") + "\n)"
    }
}
