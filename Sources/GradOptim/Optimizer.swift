import GradTensor
