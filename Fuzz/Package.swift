// swift-tools-version:6.0
import PackageDescription

// libFuzzer targets for every reader of outside data. Built and run by `Fuzz/run.sh`, which
// passes `-sanitize=fuzzer,address` to every Swift module (so the readers in the main package
// are instrumented too) and `-fsanitize=fuzzer-no-link,address` to C code (libyaml in Yams).
// Each target is an executable whose `LLVMFuzzerTestOneInput` its `@main` hands to libFuzzer
// (`FuzzDriver.runFuzzer`, because SwiftPM renames executables' `main`).

let fuzzTargets: [(name: String, dependencies: [String])] = [
    ("fuzz-safetensors", ["GradNN", "GradTensor"]),
    ("fuzz-monitor-record", ["GradNN", "GradDoctor"]),
    ("fuzz-csv", ["GradData"]),
    ("fuzz-idx", ["GradData"]),
    ("fuzz-gzip", ["GradData"]),
    ("fuzz-spec", ["GradLab"]),
    ("fuzz-metrics-log", ["GradReport"]),
    ("fuzz-tfevents", ["GradReport"]),
]

let package = Package(
    name: "GradLabFuzz",
    platforms: [.macOS(.v13)],
    dependencies: [.package(name: "GradLab", path: "..")],
    targets: [.target(name: "FuzzDriver")] + fuzzTargets.map { target in
        .executableTarget(
            name: target.name,
            dependencies: ["FuzzDriver"] + target.dependencies.map { .product(name: $0, package: "GradLab") },
            swiftSettings: [.unsafeFlags(["-parse-as-library"])])
    }
)
