import GradNN
