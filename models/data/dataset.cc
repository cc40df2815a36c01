#include "models/data/dataset.h"

#include "common/error.h"
#include "models/data/readers.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <sys/stat.h>

namespace slsim
{
namespace
{

bool
IsDirectory(const std::string& path)
{
    struct stat st;
    return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

/// FindMaybeGz with a hint on how to get the file.
std::string
Locate(const std::string& folder, const std::string& base, const std::string& name)
{
    try
    {
        return FindMaybeGz(folder, base);
    }
    catch (const InputError& e)
    {
        throw InputError(std::string(e.what()) + "; run scripts/fetch-data " + name);
    }
}

// The digits set has no official split: the first 1437 samples (80%) train, the last 360 test.
constexpr size_t DIGITS_TRAIN = 1437;

} // namespace

const std::vector<std::string>&
KnownDatasets()
{
    static const std::vector<std::string> names{"synthetic", "digits", "mnist", "fashion-mnist",
                                                "cifar10"};
    return names;
}

void
StandardNormalisation(const std::string& name, int channels, std::vector<double>& mean,
                      std::vector<double>& std)
{
    if (name == "mnist")
    {
        mean = {0.1307}; // training-set pixel statistics (checked by the data tests)
        std = {0.3081};
    }
    else if (name == "fashion-mnist")
    {
        mean = {0.2860};
        std = {0.3530};
    }
    else if (name == "cifar10")
    {
        // The paper's code: transforms.Normalize((0.4914, 0.4822, 0.4465), (0.2023, 0.1994,
        // 0.2010)). The std is the widespread per-image-averaged value, not the pixel std
        // (0.2470, 0.2435, 0.2616); we keep the paper's numbers so inputs match its runs.
        mean = {0.4914, 0.4822, 0.4465};
        std = {0.2023, 0.1994, 0.2010};
    }
    else if (name == "digits")
    {
        mean = {0.3054}; // pixel statistics of our 1437-sample training split, /255 scale
        std = {0.3753};
    }
    else if (name == "synthetic")
    {
        // By construction (synthetic.cc): pixels centred on 128 with spread ~64.
        mean.assign(static_cast<size_t>(channels), 0.5);
        std.assign(static_cast<size_t>(channels), 0.25);
    }
    else
    {
        throw InputError("dataset.name: unknown dataset '" + name
                         + "' (expected synthetic, digits, mnist, fashion-mnist or cifar10)");
    }
}

namespace
{

/// The ascending indices of the `count` samples (0 < count < n) of a split of `n` that
/// ApplySubset keeps: the first ones, or a seeded sample.
std::vector<uint32_t>
SubsetIndices(size_t n, size_t count, bool random, Rng& rng)
{
    std::vector<uint32_t> keep;
    if (random)
    {
        // Partial Fisher-Yates: the first `count` entries become a uniform sample.
        std::vector<uint32_t> idx(n);
        for (size_t i = 0; i < n; ++i)
        {
            idx[i] = static_cast<uint32_t>(i);
        }
        for (size_t i = 0; i < count; ++i)
        {
            const size_t j = i + static_cast<size_t>(rng.UniformInt(n - i));
            std::swap(idx[i], idx[j]);
        }
        keep.assign(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(count));
        std::sort(keep.begin(), keep.end());
    }
    else
    {
        keep.resize(count);
        for (size_t i = 0; i < count; ++i)
        {
            keep[i] = static_cast<uint32_t>(i);
        }
    }
    return keep;
}

} // namespace

void
ApplySubset(Dataset& data, size_t count, bool random, Rng& rng)
{
    const size_t n = data.Size();
    if (count == 0 || count >= n)
    {
        return;
    }
    const size_t sample = data.SampleSize();
    const std::vector<uint32_t> keep = SubsetIndices(n, count, random, rng);
    // In place: keep is ascending, so destination k <= source keep[k].
    for (size_t k = 0; k < count; ++k)
    {
        const size_t src = keep[k];
        data.labels[k] = data.labels[src];
        if (src != k)
        {
            std::copy_n(data.pixels.begin() + static_cast<std::ptrdiff_t>(src * sample), sample,
                        data.pixels.begin() + static_cast<std::ptrdiff_t>(k * sample));
        }
    }
    data.labels.resize(count);
    data.pixels.resize(count * sample);
    data.pixels.shrink_to_fit();
}

Shape
DatasetSampleShape(const DatasetConfig& config)
{
    if (config.name == "synthetic")
    {
        return config.syntheticShape;
    }
    if (config.name == "cifar10")
    {
        return Shape{3, 32, 32};
    }
    if (config.name == "digits")
    {
        return Shape{1, 8, 8};
    }
    return Shape{1, 28, 28}; // mnist, fashion-mnist
}

int
DatasetClasses(const DatasetConfig& config)
{
    return config.name == "synthetic" ? config.syntheticClasses : 10;
}

namespace
{

/// The folder of a file-backed dataset; throws InputError for an unknown name or a missing folder.
std::string
DatasetFolder(const DatasetConfig& config)
{
    const std::string& name = config.name;
    if (std::find(KnownDatasets().begin(), KnownDatasets().end(), name) == KnownDatasets().end())
    {
        throw InputError("dataset.name: unknown dataset '" + name
                         + "' (expected synthetic, digits, mnist, fashion-mnist or cifar10)");
    }
    const std::string folder = config.path.empty() ? "data/" + name : config.path;
    if (!IsDirectory(folder))
    {
        throw InputError(folder + ": dataset folder missing; run scripts/fetch-data " + name);
    }
    return folder;
}

size_t
Subset(size_t n, size_t subset)
{
    return subset == 0 ? n : std::min(n, subset);
}

} // namespace

size_t
InspectDataset(const DatasetConfig& config, bool train)
{
    const std::string& name = config.name;
    const size_t subset = train ? config.trainSubset : config.testSubset;
    if (name == "synthetic")
    {
        return Subset(train ? config.syntheticTrain : config.syntheticTest, subset);
    }
    const std::string folder = DatasetFolder(config);
    // A sweep validates every point: the files are inspected once per process (and split).
    static std::mutex mutex;
    static std::map<std::string, size_t> inspected;
    const std::string key = name + '\n' + folder + '\n' + (train ? "train" : "test");
    {
        std::lock_guard<std::mutex> lock(mutex);
        const auto it = inspected.find(key);
        if (it != inspected.end())
        {
            return Subset(it->second, subset);
        }
    }
    size_t n = 0;
    if (name == "mnist" || name == "fashion-mnist")
    {
        const std::string prefix = train ? "train" : "t10k";
        n = InspectIdxPair(Locate(folder, prefix + "-images-idx3-ubyte", name),
                           Locate(folder, prefix + "-labels-idx1-ubyte", name),
                           DatasetSampleShape(config), name);
    }
    else if (name == "cifar10")
    {
        for (int b = train ? 1 : 0; b <= (train ? 5 : 0); ++b)
        {
            n += InspectCifar10Batch(Locate(
                folder, b == 0 ? "test_batch.bin" : "data_batch_" + std::to_string(b) + ".bin",
                name));
        }
    }
    else // digits: a small text file, read whole
    {
        const std::string file = Locate(folder, "digits.csv", name);
        const size_t all = ReadDigitsCsv(file).Size();
        if (all <= DIGITS_TRAIN)
        {
            throw InputError(file + ": " + std::to_string(all) + " samples, expected 1797");
        }
        n = train ? DIGITS_TRAIN : all - DIGITS_TRAIN;
    }
    if (n == 0)
    {
        throw InputError(folder + ": no " + (train ? "training" : "test") + " samples");
    }
    std::lock_guard<std::mutex> lock(mutex);
    inspected[key] = n;
    return Subset(n, subset);
}

Dataset
LoadDataset(const DatasetConfig& config, bool train, uint64_t seed)
{
    const std::string& name = config.name;
    Dataset d;
    bool subsetRead = false; // the reader took the subset itself
    if (name == "synthetic")
    {
        d = MakeSyntheticDataset(config, train, seed);
    }
    else
    {
        // The headers, sizes and labels are checked against the model's input before any pixel
        // buffer is made (a consistent file of another image size used to crash the run).
        InspectDataset(config, train);
        const std::string folder = DatasetFolder(config);
        if (name == "mnist" || name == "fashion-mnist")
        {
            const std::string prefix = train ? "train" : "t10k";
            d = ReadIdxPair(Locate(folder, prefix + "-images-idx3-ubyte", name),
                            Locate(folder, prefix + "-labels-idx1-ubyte", name), name);
        }
        else if (name == "cifar10")
        {
            d.name = name;
            std::vector<std::string> paths;
            for (int b = train ? 1 : 0; b <= (train ? 5 : 0); ++b)
            {
                paths.push_back(Locate(
                    folder, b == 0 ? "test_batch.bin" : "data_batch_" + std::to_string(b) + ".bin",
                    name));
            }
            // A subset reads only its records: the same indices ApplySubset would keep (the
            // same stream), so the same samples in the same order; a quick run no longer reads
            // 150 MB for 160 images.
            const size_t count = train ? config.trainSubset : config.testSubset;
            DatasetConfig whole = config;
            whole.trainSubset = whole.testSubset = 0;
            const size_t n = InspectDataset(whole, train);
            Rng pick(seed, "subset", train ? 0 : 1);
            if (count > 0 && count < n
                && ReadCifar10Records(paths, SubsetIndices(n, count, config.subsetRandom, pick), d))
            {
                subsetRead = true;
            }
            else
            {
                if (train)
                {
                    d.pixels.reserve(size_t{50000} * 3072); // one allocation for five batches
                    d.labels.reserve(50000);
                }
                for (const std::string& path : paths)
                {
                    ReadCifar10Batch(path, d);
                }
            }
        }
        else // digits
        {
            const std::string file = Locate(folder, "digits.csv", name);
            d = ReadDigitsCsv(file);
            Dataset part = d;
            part.labels.clear();
            part.pixels.clear();
            const size_t from = train ? 0 : DIGITS_TRAIN;
            const size_t to = train ? DIGITS_TRAIN : d.Size();
            part.labels.assign(d.labels.begin() + static_cast<std::ptrdiff_t>(from),
                               d.labels.begin() + static_cast<std::ptrdiff_t>(to));
            part.pixels.assign(d.pixels.begin() + static_cast<std::ptrdiff_t>(from * 64),
                               d.pixels.begin() + static_cast<std::ptrdiff_t>(to * 64));
            d = std::move(part);
        }
        // A file that changed between the inspection and the read.
        if (!(d.SampleShape() == DatasetSampleShape(config)) || d.Size() == 0)
        {
            throw InputError(folder + ": " + name + " samples are " + d.SampleShape().ToString()
                             + ", expected " + DatasetSampleShape(config).ToString());
        }
    }
    if (!subsetRead)
    {
        Rng rng(seed, "subset", train ? 0 : 1);
        ApplySubset(d, train ? config.trainSubset : config.testSubset, config.subsetRandom, rng);
    }
    return d;
}

} // namespace slsim
