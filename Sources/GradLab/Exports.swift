// `import GradLab` brings the whole toolkit, as `import torch` does.
@_exported import GradData
@_exported import GradDoctor
@_exported import GradNN
@_exported import GradOptim
@_exported import GradTensor
@_exported import GradReport
