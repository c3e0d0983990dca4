import GradTensor

/// A layer or a network: a forward pass and the parameters it owns, listed by name.
///
/// Conformers implement `forward(_:)`; callers use `model(x)`, which runs `forward` and then
/// the module's hooks (as PyTorch's `__call__`). Parameter names follow PyTorch's
/// `state_dict`: containers prefix their children's names (`0.weight`, `block.1.bias`).
public protocol Module<Scalar>: AnyObject {
    associatedtype Scalar: TensorScalar
    /// The forward pass.
    func forward(_ input: Tensor<Scalar>) -> Tensor<Scalar>
    /// This module's parameters with PyTorch's names, children's included.
    var namedParameters: [(String, Parameter<Scalar>)] { get }
    /// Non-learnable state saved in checkpoints (running statistics), with PyTorch's names.
    var namedBuffers: [(String, Tensor<Scalar>)] { get }
    /// Direct children with their names (for mode switches and hooks).
    var children: [(String, any Module<Scalar>)] { get }
    /// Training mode (the default) or evaluation mode.
    var isTraining: Bool { get set }
    /// Hooks run by `callAsFunction`.
    var hooks: ModuleHooks<Scalar> { get }
    /// A short description, as PyTorch prints a module (`Linear(in_features=1, out_features=10, bias=True)`).
    var summary: String { get }
}

extension Module {
    public var namedBuffers: [(String, Tensor<Scalar>)] {
        children.flatMap { name, child in child.namedBuffers.map { ("\(name).\($0.0)", $0.1) } }
    }
    public var children: [(String, any Module<Scalar>)] { [] }
    public var namedParameters: [(String, Parameter<Scalar>)] {
        children.flatMap { name, child in child.namedParameters.map { ("\(name).\($0.0)", $0.1) } }
    }
    public var summary: String {
        // The type's name without its generic argument: `ReLU()`, as PyTorch prints it.
        let name = String(describing: type(of: self))
        return String(name.prefix { $0 != "<" }) + "()"
    }

    /// The parameters in `namedParameters` order.
    public var parameters: [Parameter<Scalar>] { namedParameters.map { $0.1 } }

    /// Runs the forward pass and this module's hooks.
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        let output = forward(input)
        if hooks.isEmpty { return output }
        return hooks.run(module: self, input: input, output: output)
    }

    /// Sets training mode (`true`) or evaluation mode on this module and all its children.
    public func train(_ mode: Bool = true) {
        isTraining = mode
        for (_, child) in children { child.train(mode) }
    }

    /// Sets evaluation mode (batch norm uses running statistics, dropout is off).
    public func eval() { train(false) }

    /// Clears the gradient of every parameter.
    public func zeroGrad() { for p in parameters { p.zeroGrad() } }

    /// Every module in the tree with its dotted name (`""` for this one), depth first.
    public var namedModules: [(String, any Module<Scalar>)] {
        var result: [(String, any Module<Scalar>)] = [("", self)]
        for (name, child) in children {
            result += child.namedModules.map { ($0.0.isEmpty ? name : "\(name).\($0.0)", $0.1) }
        }
        return result
    }

    /// Number of learnable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }
}

/// The hooks of one module: called after its forward pass (with input and output) and when
/// the gradient with respect to its output is complete during `backward()`.
public final class ModuleHooks<Scalar: TensorScalar> {
    public typealias ForwardHook = (_ module: any Module<Scalar>, _ input: Tensor<Scalar>, _ output: Tensor<Scalar>) -> Void
    public typealias OutputGradientHook = (_ module: any Module<Scalar>, _ gradient: Tensor<Scalar>) -> Void

    private var forwardHooks: [(Int, ForwardHook)] = []
    private var gradientHooks: [(Int, OutputGradientHook)] = []
    private var nextID = 0

    public init() {}

    /// Whether no hook is registered (a stored flag: it is read on every layer call).
    public private(set) var isEmpty = true

    private func updateIsEmpty() { isEmpty = forwardHooks.isEmpty && gradientHooks.isEmpty }

    /// Calls `hook` after every forward pass of the module.
    @discardableResult
    public func addForwardHook(_ hook: @escaping ForwardHook) -> HookHandle {
        nextID += 1
        let id = nextID
        forwardHooks.append((id, hook))
        isEmpty = false
        return HookHandle(remove: { [weak self] in
            self?.forwardHooks.removeAll { $0.0 == id }
            self?.updateIsEmpty()
        })
    }

    /// Calls `hook` with the gradient of the loss with respect to the module's output
    /// (PyTorch's full backward hook on the output side).
    @discardableResult
    public func addOutputGradientHook(_ hook: @escaping OutputGradientHook) -> HookHandle {
        nextID += 1
        let id = nextID
        gradientHooks.append((id, hook))
        isEmpty = false
        return HookHandle(remove: { [weak self] in
            self?.gradientHooks.removeAll { $0.0 == id }
            self?.updateIsEmpty()
        })
    }

    func run(module: any Module<Scalar>, input: Tensor<Scalar>, output: Tensor<Scalar>) -> Tensor<Scalar> {
        runForwardHooks(module: module, input: input, output: output)
        if !gradientHooks.isEmpty && output.requiresGrad {
            let hooks = gradientHooks.map { $0.1 }
            output.registerHook { [weak module] g in
                if let module { for hook in hooks { hook(module, g) } }
                return nil
            }
        }
        return output
    }

    /// Calls the forward hooks (for a fused chain, which runs its layers itself).
    func runForwardHooks(module: any Module<Scalar>, input: Tensor<Scalar>, output: Tensor<Scalar>) {
        for (_, hook) in forwardHooks { hook(module, input, output) }
    }

    /// Calls the output-gradient hooks (for a fused chain, from its pullback).
    func runOutputGradientHooks(module: any Module<Scalar>, gradient: Tensor<Scalar>) {
        for (_, hook) in gradientHooks { hook(module, gradient) }
    }
}

extension Module where Scalar == Double {
    /// Compares the autodiff gradients of `loss` with respect to this module's parameters with
    /// central finite differences (see `checkGradients(named:step:relativeTolerance:absoluteTolerance:loss:)`);
    /// the report's entries carry the parameters' names (`0.weight`, ...), worst first in
    /// `worstEntries`.
    ///
    /// - Parameters:
    ///   - step: the finite-difference step `h`.
    ///   - relativeTolerance: allowed error relative to `max(|analytic|, |numeric|)`.
    ///   - absoluteTolerance: allowed error near zero.
    ///   - loss: runs the module and returns a one-element loss; called once with recording
    ///     and twice per parameter element without.
    public func checkGradients(
        step: Double = 1e-6, relativeTolerance: Double = 1e-6, absoluteTolerance: Double = 1e-8,
        loss: () -> Tensor<Double>
    ) -> GradientCheckReport {
        GradTensor.checkGradients(
            named: namedParameters.map { ($0.0, $0.1.value) }, step: step,
            relativeTolerance: relativeTolerance, absoluteTolerance: absoluteTolerance, loss: loss)
    }
}
