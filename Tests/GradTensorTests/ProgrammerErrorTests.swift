import Foundation
import Testing
import GradTensor

/// Programmer errors stop the process with a message naming both shapes, in every build mode
/// (checked in a child process: Swift Testing's exit tests).
@Suite struct ProgrammerErrorTests {
    static func stderr(_ result: ExitTest.Result?) -> String {
        String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    }

    @Test func broadcastMismatchNamesBothShapes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>.zeros([2, 3]) + Tensor<Float>.zeros([4])
        }
        let text = Self.stderr(result)
        #expect(text.contains("[2, 3]") && text.contains("[4]"), "stderr: \(text)")
    }

    @Test func matmulMismatchNamesBothShapes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = matmul(Tensor<Double>.zeros([2, 3]), Tensor<Double>.zeros([4, 5]))
        }
        let text = Self.stderr(result)
        #expect(text.contains("[2, 3]") && text.contains("[4, 5]"), "stderr: \(text)")
    }

    @Test func linearInputMismatchNamesBothShapes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = linear(Tensor<Float>.zeros([8, 3]), weight: Tensor<Float>.zeros([10, 2]), bias: nil)
        }
        let text = Self.stderr(result)
        #expect(text.contains("[8, 3]") && text.contains("[10, 2]"), "stderr: \(text)")
    }

    @Test func reshapeToWrongCountNamesBothShapes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>.zeros([2, 3]).reshaped([4, 2])
        }
        let text = Self.stderr(result)
        #expect(text.contains("[2, 3]") && text.contains("[4, 2]"), "stderr: \(text)")
    }
}
