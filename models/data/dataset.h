// Datasets for the simulator: loading (real files or the built-in synthetic set), batch making with
// normalisation and augmentation, and partitioning the training set across devices.
//
// Images are uint8, CHW planar per image, images concatenated. Batches are float NCHW, normalised
// as (pixel / 255 - mean[c]) / std[c]. Every random choice comes from a caller-supplied slsim::Rng,
// so runs are reproducible across machines. Readers for the on-disk formats are in readers.h; the
// fetch script is scripts/fetch-data (see models/data/README.md for sources and licences).
#ifndef SLSIM_MODELS_DATA_DATASET_H
#define SLSIM_MODELS_DATA_DATASET_H

#include "common/rng.h"
#include "common/shape.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace slsim
{

/// Images as uint8, CHW planar per image, images concatenated:
/// pixels.size() == count * channels*height*width.
struct Dataset
{
    std::string name;
    int channels = 1, height = 1, width = 1, classes = 10;
    std::vector<uint8_t> pixels;
    std::vector<uint8_t> labels;

    size_t Size() const
    {
        return labels.size();
    }

    Shape SampleShape() const
    {
        return Shape{channels, height, width};
    }

    /// channels * height * width
    size_t SampleSize() const
    {
        return static_cast<size_t>(channels) * static_cast<size_t>(height)
               * static_cast<size_t>(width);
    }

    /// Pointer to sample i's pixels (SampleSize() bytes).
    const uint8_t* Sample(size_t i) const
    {
        return pixels.data() + i * SampleSize();
    }
};

struct DatasetConfig
{
    std::string name = "synthetic"; // synthetic | digits | mnist | fashion-mnist | cifar10
    std::string path;               // folder with the files; "" = data/<name> relative to the cwd
    std::vector<double> mean, std;  // per channel, on the [0,1] scale; empty = the standard values
    bool augment = false;           // random crop (pad 4) + horizontal flip, training only
    size_t trainSubset = 0, testSubset = 0; // 0 = all
    bool subsetRandom = false; // false: the first N samples; true: a seeded sample of N (sorted)
    // synthetic only:
    size_t syntheticTrain = 2000, syntheticTest = 500;
    int syntheticClasses = 10;
    Shape syntheticShape{1, 8, 8};
};

/// The dataset names LoadDataset accepts.
const std::vector<std::string>& KnownDatasets();

/// The standard per-channel mean and std ([0,1] scale) of a dataset, used when the config leaves
/// them empty. Throws InputError for an unknown name.
void StandardNormalisation(const std::string& name, int channels, std::vector<double>& mean,
                           std::vector<double>& std);

/// The shape of one sample and the number of classes that the dataset's name implies, which are
/// the model's input and output: 1x28x28 for mnist and fashion-mnist, 3x32x32 for cifar10, 1x8x8
/// for digits, the configured ones for synthetic; 10 classes except synthetic.
Shape DatasetSampleShape(const DatasetConfig& config);
int DatasetClasses(const DatasetConfig& config);

/// Checks the train or test files against DatasetSampleShape and each other without reading the
/// pixels (readers.h: InspectIdxPair, InspectCifar10Batch; the digits file is read whole), and
/// returns the number of samples the split will hold (subset applied; synthetic: the configured
/// size). Throws InputError naming the folder or file.
size_t InspectDataset(const DatasetConfig& config, bool train);

/// Loads the train or test split (subset applied). Throws InputError naming the file on any
/// problem. `seed` drives the synthetic data and the seeded subset (stream "subset").
Dataset LoadDataset(const DatasetConfig& config, bool train, uint64_t seed);

/// Keeps `count` samples of `data`: the first ones, or (random) a seeded sample kept in the
/// original order. count == 0 or count >= Size() keeps everything.
void ApplySubset(Dataset& data, size_t count, bool random, Rng& rng);

/// The built-in synthetic dataset (no files): class prototypes plus structured noise; see
/// synthetic.cc for the recipe. Deterministic in (seed, sizes, shape, classes). The train and test
/// splits share prototypes (drawn from the seed) and use separate sample streams.
Dataset MakeSyntheticDataset(const DatasetConfig& config, bool train, uint64_t seed);

/// Turns samples into normalised float batches. Allocation-free per call. Keeps a reference to
/// `data`, which must outlive it. Throws InputError for a mean/std of the wrong size or std <= 0.
class BatchMaker
{
  public:
    BatchMaker(const Dataset& data, const DatasetConfig& config);

    /// Fills out (count * C*H*W floats, NCHW, normalised) and labels (count). When augment is
    /// true, each image is randomly cropped from its zero-padded (4 px) version and flipped
    /// horizontally with p = 0.5, drawing from rng (padding is zero in pixel space, before
    /// normalisation, as torchvision's RandomCrop(32, padding=4) then Normalize does).
    void Make(const uint32_t* indices, size_t count, bool augment, Rng& rng, float* out,
              int32_t* labels) const;

    const std::vector<double>& Mean() const
    {
        return m_mean;
    }

    const std::vector<double>& Std() const
    {
        return m_std;
    }

  private:
    const Dataset& m_data;
    std::vector<double> m_mean, m_std;
    std::vector<float> m_lut; // m_lut[c * 256 + v] = (v / 255 - mean[c]) / std[c]
    int m_pad = 4;
};

enum class PartitionKind
{
    IID,
    DIRICHLET,
    SHARDS
};

struct PartitionConfig
{
    PartitionKind kind = PartitionKind::IID;
    double alpha = 0.5;      // Dirichlet concentration (smaller = more skewed)
    int shardsPerDevice = 2; // SHARDS: sort by label, cut into devices*shardsPerDevice shards
};

/// "iid" | "dirichlet" | "shards" -> kind; throws InputError otherwise.
PartitionKind ParsePartitionKind(const std::string& s);

/// Assigns every training sample to exactly one device; returns each device's sample indices
/// (ascending). IID: a seeded shuffle cut into near-equal parts (sizes differ by at most one).
/// DIRICHLET: for each label, proportions ~ Dir(alpha) over devices. SHARDS: samples sorted by
/// label, cut into devices*shardsPerDevice contiguous shards, shards dealt at random.
std::vector<std::vector<uint32_t>> PartitionDataset(const Dataset& data, int devices,
                                                    const PartitionConfig& config, Rng& rng);

/// histogram[device][label] = count
std::vector<std::vector<size_t>> LabelHistograms(const Dataset& data,
                                                 const std::vector<std::vector<uint32_t>>& parts);

/// Gamma(shape, 1) by Marsaglia-Tsang (shape < 1 via the boost U^(1/shape)). shape > 0.
double SampleGamma(double shape, Rng& rng);

} // namespace slsim

#endif
