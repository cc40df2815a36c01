// Readers for the on-disk dataset formats. Every function throws slsim::InputError with a one-line
// message naming the file and what was expected (missing, truncated, wrong magic, bad value).
//
// IDX (MNIST, Fashion-MNIST), big-endian:
//   images: u32 magic 2051 (0x00000803), u32 count, u32 rows, u32 cols, then count*rows*cols bytes
//   labels: u32 magic 2049 (0x00000801), u32 count, then count bytes (0..9)
//   Example: a 2-image 28x28 file starts 00 00 08 03 00 00 00 02 00 00 00 1c 00 00 00 1c.
//   A gzip-compressed file (first bytes 1f 8b) is decompressed transparently.
// CIFAR-10 binary batch: records of 1 label byte + 1024 R + 1024 G + 1024 B (32x32 planar, row
//   major); data_batch_{1..5}.bin and test_batch.bin hold 10000 records (30,730,000 bytes) each.
// sklearn digits CSV (digits.csv.gz): one sample per line, 64 integers 0..16 (8x8 row-major)
//   then the label 0..9, comma-separated. Pixels are stored as round(v * 255 / 16).
#ifndef SLSIM_MODELS_DATA_READERS_H
#define SLSIM_MODELS_DATA_READERS_H

#include "models/data/dataset.h"

#include <cstdint>
#include <string>
#include <vector>

namespace slsim
{

/// Whole file into memory; gunzips it when it starts with the gzip magic (multi-member aware).
std::vector<uint8_t> ReadFileMaybeGzip(const std::string& path);

/// Sets channels=1, height, width and pixels of `out` from an IDX image file.
void ReadIdxImages(const std::string& path, Dataset& out);
/// Sets labels of `out` from an IDX label file; labels must be < classes.
void ReadIdxLabels(const std::string& path, Dataset& out, int classes = 10);

/// Loads an images + labels IDX pair and checks that the counts agree.
Dataset ReadIdxPair(const std::string& imagesPath, const std::string& labelsPath,
                    const std::string& name);

/// Appends the records of one CIFAR-10 binary batch file to `out` (3x32x32, 10 classes).
void ReadCifar10Batch(const std::string& path, Dataset& out);

/// Appends only the records `keep` (ascending indices counted across `paths` in order) of
/// uncompressed CIFAR-10 batch files to `out`, one pread each: a subset without reading the
/// whole split (150 MB for the training set). Returns false, appending nothing, when a file is
/// gzip-compressed (read it whole with ReadCifar10Batch then). Throws InputError naming the file
/// on a bad size, an index past the end, a short read or a label outside 0..9.
bool ReadCifar10Records(const std::vector<std::string>& paths, const std::vector<uint32_t>& keep,
                        Dataset& out);

/// Reads the sklearn digits CSV (plain or .gz): 1x8x8, 10 classes.
Dataset ReadDigitsCsv(const std::string& path);

/// Checks an images + labels IDX pair without reading the pixels: magic, rank, images of
/// `sample` (1xHxW: the model's input), file sizes (decompressed for gzip), equal counts, labels
/// 0..9. Returns the number of images. Throws InputError naming the file.
size_t InspectIdxPair(const std::string& imagesPath, const std::string& labelsPath,
                      const Shape& sample, const std::string& name);

/// Checks a CIFAR-10 batch file without reading the pixels: its size (a non-zero multiple of the
/// 3073-byte record) and, for a plain file, every record's label (0..9). Returns the records.
size_t InspectCifar10Batch(const std::string& path);

/// First existing of `folder/base` and `folder/base.gz`; throws InputError naming both if neither.
std::string FindMaybeGz(const std::string& folder, const std::string& base);

} // namespace slsim

#endif
