// swift-tools-version:6.0
// Benchmarks of GradLab, kept out of the main package so that it stays free of benchmark
// code and dependencies. Build and run from this folder, or use `run.sh`, which also runs the
// PyTorch peers in `peer/` and compares:
//
//     swift build -c release && .build/release/gradlab-bench matmul --json
import PackageDescription

let package = Package(
    name: "GradLabBenchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "GradLab", path: ".."),
    ],
    targets: [
        .executableTarget(name: "gradlab-bench", dependencies: [
            .product(name: "GradTensor", package: "GradLab"),
            .product(name: "GradNN", package: "GradLab"),
            .product(name: "GradOptim", package: "GradLab"),
            .product(name: "GradDoctor", package: "GradLab"),
        ]),
    ]
)
