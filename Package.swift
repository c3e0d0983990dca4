// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "GradLab",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "GradTensor", targets: ["GradTensor"]),
        .library(name: "GradNN", targets: ["GradNN"]),
        .library(name: "GradOptim", targets: ["GradOptim"]),
        .library(name: "GradData", targets: ["GradData"]),
        .library(name: "GradDoctor", targets: ["GradDoctor"]),
        .library(name: "GradReport", targets: ["GradReport"]),
        .library(name: "GradLab", targets: ["GradLab"]),
        .executable(name: "gradlab", targets: ["gradlab"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // Vector kernels for small layers, compiled for the baseline and for AVX2 (picked at run time).
        .target(name: "GradKernels"),
        .target(name: "GradTensor", dependencies: ["GradKernels", .product(name: "RealModule", package: "swift-numerics")]),
        .target(name: "GradNN", dependencies: ["GradTensor"]),
        .target(name: "GradOptim", dependencies: ["GradKernels", "GradTensor", "GradNN"]),
        .target(name: "GradData", dependencies: ["GradTensor", .product(name: "RealModule", package: "swift-numerics")],
                resources: [.copy("Resources")]),
        .target(name: "GradDoctor", dependencies: ["GradKernels", "GradTensor", "GradNN", "GradOptim"]),
        .target(name: "GradReport", dependencies: ["GradTensor", "GradNN", "GradDoctor"]),
        .target(name: "GradLab", dependencies: ["GradTensor", "GradNN", "GradOptim", "GradData", "GradDoctor", "GradReport",
                                                .product(name: "Yams", package: "Yams")]),
        .executableTarget(name: "gradlab", dependencies: [
            "GradLab", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Shared test helpers (tolerances, fixture paths); used by the test targets only.
        .target(name: "GradTestSupport", dependencies: ["GradTensor"], path: "Tests/Support"),
        .testTarget(name: "GradTensorTests", dependencies: ["GradTensor", "GradTestSupport"]),
        .testTarget(name: "GradNNTests", dependencies: ["GradTensor", "GradNN", "GradOptim", "GradData", "GradDoctor", "GradTestSupport"]),
        .testTarget(name: "GradOptimTests", dependencies: ["GradTensor", "GradNN", "GradOptim", "GradTestSupport"]),
        .testTarget(name: "GradDataTests", dependencies: ["GradData", "GradTestSupport"]),
        .testTarget(name: "GradDoctorTests", dependencies: ["GradDoctor", "GradKernels", "GradNN", "GradOptim", "GradData", "GradTestSupport"]),
        .testTarget(name: "GradReportTests", dependencies: ["GradReport", "GradDoctor", "GradTestSupport"]),
        .testTarget(name: "GradLabTests", dependencies: ["GradLab", "GradNN", "gradlab", "GradTestSupport"]),
    ]
)
