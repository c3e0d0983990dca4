import Foundation
import GradTensor

/// The real data sets that ship with GradLab (gzip-compressed CSV files among the package's
/// resources, decoded by GradData's own inflater; no network, no system library).
///
/// Both are 10-class classification sets: `labels` holds the digit (0–9), `targets` its one-hot
/// row `[n, 10]` (or the index `[n, 1]` with `encoding: .index`). Sources and licences are in
/// `Sources/GradData/Resources/README.md` and in `BundledData.catalog`.
public enum BundledData {
    /// A bundled set's facts: name, size, source and licence.
    public struct Info: Sendable, Equatable {
        /// The name a spec file uses (`data: {kind: digits}`).
        public let name: String
        /// The resource file.
        public let file: String
        /// Data rows.
        public let rows: Int
        /// Columns: features plus the label.
        public let columns: Int
        /// What the set is.
        public let summary: String
        /// Where it comes from and under which licence.
        public let source: String
    }

    /// The two splits of MNIST-1D.
    public enum Split: String, Sendable, CaseIterable {
        /// 4000 training signals.
        case train
        /// 1000 test signals.
        case test
    }

    /// The facts of every bundled set.
    public static let catalog: [Info] = [
        Info(name: "digits", file: "digits.csv.gz", rows: 1797, columns: 65,
             summary: "8×8 handwritten digits, pixel values 0–16; 64 features then the label (0–9); no header",
             source: "UCI Optical Recognition of Handwritten Digits (Alpaydin & Kaynak), as distributed with scikit-learn; CC BY 4.0"),
        Info(name: "mnist1d-train", file: "mnist1d_train.csv.gz", rows: 4000, columns: 41,
             summary: "MNIST-1D training split: 1-D signals of length 40 from 10 digit templates; header x0..x39,label",
             source: "generated with the mnist1d package (Greydanus & Kobak, Scaling Down Deep Learning with MNIST-1D, 2020/2024; Apache-2.0), default arguments"),
        Info(name: "mnist1d-test", file: "mnist1d_test.csv.gz", rows: 1000, columns: 41,
             summary: "MNIST-1D test split (same generator); published test accuracy: logistic regression ~32%, MLP ~68%, CNN ~94%, GRU ~91%",
             source: "generated with the mnist1d package (Greydanus & Kobak, Scaling Down Deep Learning with MNIST-1D, 2020/2024; Apache-2.0), default arguments"),
    ]

    /// The 8×8 digits of UCI/scikit-learn: features `[1797, 64]` holding pixel values 0–16
    /// as in `sklearn.datasets.load_digits` (unscaled; standardize or divide by 16 as needed),
    /// labels 0–9.
    ///
    /// - Parameters:
    ///   - encoding: one-hot `[n, 10]` targets (default) or the class index `[n, 1]`.
    ///   - type: the element type of the tensors.
    /// - Throws: `DataError` if the resource is missing or damaged (a broken installation).
    public static func digits<Scalar: TensorScalar>(
        encoding: CSVOptions.LabelEncoding = .oneHot, as type: Scalar.Type = Scalar.self
    ) throws(DataError) -> Dataset<Scalar> {
        try load("digits.csv.gz", header: .absent, encoding: encoding, as: type)
    }

    /// MNIST-1D (Greydanus & Kobak): features `[4000, 40]` (train) or `[1000, 40]` (test),
    /// real-valued signals roughly in `[-3, 3]`, labels 0–9.
    ///
    /// - Parameters:
    ///   - split: `.train` or `.test`.
    ///   - encoding: one-hot `[n, 10]` targets (default) or the class index `[n, 1]`.
    ///   - type: the element type of the tensors.
    /// - Throws: `DataError` if the resource is missing or damaged (a broken installation).
    public static func mnist1d<Scalar: TensorScalar>(
        split: Split, encoding: CSVOptions.LabelEncoding = .oneHot, as type: Scalar.Type = Scalar.self
    ) throws(DataError) -> Dataset<Scalar> {
        try load("mnist1d_\(split.rawValue).csv.gz", header: .present, encoding: encoding, as: type)
    }

    /// The URL of a bundled resource file, or nil when the installation lacks it.
    ///
    /// - Parameter file: the file's name, for example `digits.csv.gz`.
    public static func url(of file: String) -> URL? {
        let name = (file as NSString).deletingPathExtension
        let pathExtension = (file as NSString).pathExtension
        return Bundle.module.url(forResource: name, withExtension: pathExtension, subdirectory: "Resources")
    }

    static func load<Scalar: TensorScalar>(
        _ file: String, header: CSVOptions.Header, encoding: CSVOptions.LabelEncoding, as type: Scalar.Type
    ) throws(DataError) -> Dataset<Scalar> {
        guard let url = url(of: file) else {
            throw DataError(file: file, location: .file, reason: .missingResource(file))
        }
        let bytes = try DataFile.read(url, name: file)
        let options = CSVOptions(header: header, task: .classification(encoding))
        let data = try CSVLoader.load(bytes: bytes, file: file, options: options, as: type)
        guard data.classCount == 10 else {
            throw DataError(file: file, location: .file, reason: .missingResource("\(file) (expected 10 classes)"))
        }
        return data.train
    }
}
