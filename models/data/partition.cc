#include "common/error.h"
#include "models/data/dataset.h"

#include <algorithm>
#include <cmath>

namespace slsim
{
namespace
{

// Dirichlet partitions are redrawn (from the same stream) until every device has a sample, as
// FedML/NIID-Bench do with their minimum size; after this many draws the last one is kept.
constexpr int DIRICHLET_MAX_DRAWS = 100;

std::vector<std::vector<uint32_t>>
PartitionIid(size_t n, int devices, Rng& rng)
{
    std::vector<uint32_t> perm(n);
    for (size_t i = 0; i < n; ++i)
    {
        perm[i] = static_cast<uint32_t>(i);
    }
    rng.Shuffle(perm);
    std::vector<std::vector<uint32_t>> parts(static_cast<size_t>(devices));
    const size_t m = static_cast<size_t>(devices);
    for (size_t d = 0; d < m; ++d)
    {
        // [d*n/m, (d+1)*n/m): sizes differ by at most one.
        const size_t from = d * n / m;
        const size_t to = (d + 1) * n / m;
        parts[d].assign(perm.begin() + static_cast<std::ptrdiff_t>(from),
                        perm.begin() + static_cast<std::ptrdiff_t>(to));
    }
    return parts;
}

std::vector<std::vector<uint32_t>>
PartitionDirichlet(const Dataset& data, int devices, double alpha, Rng& rng)
{
    const size_t m = static_cast<size_t>(devices);
    std::vector<std::vector<uint32_t>> byLabel(static_cast<size_t>(data.classes));
    for (size_t i = 0; i < data.Size(); ++i)
    {
        SLSIM_ASSERT_MSG(data.labels[i] < data.classes, "PartitionDataset: label out of range");
        byLabel[data.labels[i]].push_back(static_cast<uint32_t>(i));
    }
    std::vector<std::vector<uint32_t>> parts;
    std::vector<double> p(m);
    for (int draw = 0; draw < DIRICHLET_MAX_DRAWS; ++draw)
    {
        parts.assign(m, {});
        for (auto& members : byLabel)
        {
            if (members.empty())
            {
                continue;
            }
            std::vector<uint32_t> shuffled = members;
            rng.Shuffle(shuffled);
            // p ~ Dir(alpha): independent Gamma(alpha, 1) draws, normalised.
            double sum = 0.0;
            for (double& x : p)
            {
                x = SampleGamma(alpha, rng);
                sum += x;
            }
            if (!(sum > 0.0))
            {
                // All draws underflowed (tiny alpha): the limit puts everything on one device.
                std::fill(p.begin(), p.end(), 0.0);
                p[static_cast<size_t>(rng.UniformInt(m))] = 1.0;
                sum = 1.0;
            }
            // Cut points at round(n * cumulative share): every sample goes to exactly one device.
            const double n = static_cast<double>(shuffled.size());
            double cumulative = 0.0;
            size_t from = 0;
            for (size_t d = 0; d < m; ++d)
            {
                cumulative += p[d] / sum;
                size_t to = d + 1 == m ? shuffled.size()
                                       : static_cast<size_t>(std::llround(n * cumulative));
                to = std::clamp(to, from, shuffled.size());
                parts[d].insert(parts[d].end(),
                                shuffled.begin() + static_cast<std::ptrdiff_t>(from),
                                shuffled.begin() + static_cast<std::ptrdiff_t>(to));
                from = to;
            }
        }
        bool allNonEmpty = true;
        for (const auto& part : parts)
        {
            allNonEmpty = allNonEmpty && !part.empty();
        }
        if (allNonEmpty)
        {
            break;
        }
    }
    return parts;
}

std::vector<std::vector<uint32_t>>
PartitionShards(const Dataset& data, int devices, int shardsPerDevice, Rng& rng)
{
    const size_t n = data.Size();
    const size_t m = static_cast<size_t>(devices);
    const size_t spd = static_cast<size_t>(shardsPerDevice);
    const size_t shards = m * spd;
    if (shards > n)
    {
        throw InputError("partition.shards_per_device: " + std::to_string(devices) + " devices x "
                         + std::to_string(shardsPerDevice) + " shards exceed the "
                         + std::to_string(n) + " training samples");
    }
    // Stable sort by label (counting sort), so shards are label-homogeneous runs.
    std::vector<uint32_t> sorted;
    sorted.reserve(n);
    for (uint8_t label : data.labels)
    {
        SLSIM_ASSERT_MSG(label < data.classes, "PartitionDataset: label out of range");
    }
    for (int k = 0; k < data.classes; ++k)
    {
        for (size_t i = 0; i < n; ++i)
        {
            if (data.labels[i] == k)
            {
                sorted.push_back(static_cast<uint32_t>(i));
            }
        }
    }
    std::vector<uint32_t> order(shards);
    for (size_t s = 0; s < shards; ++s)
    {
        order[s] = static_cast<uint32_t>(s);
    }
    rng.Shuffle(order);
    std::vector<std::vector<uint32_t>> parts(m);
    for (size_t d = 0; d < m; ++d)
    {
        for (size_t k = 0; k < spd; ++k)
        {
            const size_t s = order[d * spd + k];
            const size_t from = s * n / shards;
            const size_t to = (s + 1) * n / shards;
            parts[d].insert(parts[d].end(), sorted.begin() + static_cast<std::ptrdiff_t>(from),
                            sorted.begin() + static_cast<std::ptrdiff_t>(to));
        }
    }
    return parts;
}

} // namespace

double
SampleGamma(double shape, Rng& rng)
{
    SLSIM_ASSERT(shape > 0.0);
    if (shape < 1.0)
    {
        // Gamma(a) = Gamma(a + 1) * U^(1/a) (Marsaglia & Tsang 2000, section 6).
        double u = rng.Uniform();
        while (u <= 0.0)
        {
            u = rng.Uniform();
        }
        return SampleGamma(shape + 1.0, rng) * std::pow(u, 1.0 / shape);
    }
    // Marsaglia & Tsang (2000): d = a - 1/3, c = 1/sqrt(9d); accept d*v with v = (1 + c*x)^3.
    const double d = shape - 1.0 / 3.0;
    const double c = 1.0 / std::sqrt(9.0 * d);
    while (true)
    {
        double x, v;
        do
        {
            x = rng.Normal();
            v = 1.0 + c * x;
        } while (v <= 0.0);
        v = v * v * v;
        const double u = rng.Uniform();
        const double x2 = x * x;
        if (u < 1.0 - 0.0331 * x2 * x2) // squeeze
        {
            return d * v;
        }
        if (u > 0.0 && std::log(u) < 0.5 * x2 + d * (1.0 - v + std::log(v)))
        {
            return d * v;
        }
    }
}

PartitionKind
ParsePartitionKind(const std::string& s)
{
    if (s == "iid")
    {
        return PartitionKind::IID;
    }
    if (s == "dirichlet")
    {
        return PartitionKind::DIRICHLET;
    }
    if (s == "shards")
    {
        return PartitionKind::SHARDS;
    }
    throw InputError("partition.kind: unknown '" + s + "' (expected iid, dirichlet or shards)");
}

std::vector<std::vector<uint32_t>>
PartitionDataset(const Dataset& data, int devices, const PartitionConfig& config, Rng& rng)
{
    if (devices < 1)
    {
        throw InputError("partition: need at least one device (got " + std::to_string(devices)
                         + ")");
    }
    if (static_cast<size_t>(devices) > data.Size())
    {
        throw InputError("partition: " + std::to_string(devices) + " devices but only "
                         + std::to_string(data.Size()) + " training samples");
    }
    if (data.Size() > UINT32_MAX)
    {
        throw InputError("partition: more than 2^32 - 1 samples");
    }
    std::vector<std::vector<uint32_t>> parts;
    switch (config.kind)
    {
    case PartitionKind::IID:
        parts = PartitionIid(data.Size(), devices, rng);
        break;
    case PartitionKind::DIRICHLET:
        if (!(config.alpha > 0.0) || !std::isfinite(config.alpha))
        {
            throw InputError("partition.alpha: must be finite and > 0");
        }
        parts = PartitionDirichlet(data, devices, config.alpha, rng);
        break;
    case PartitionKind::SHARDS:
        if (config.shardsPerDevice < 1)
        {
            throw InputError("partition.shards_per_device: must be >= 1");
        }
        parts = PartitionShards(data, devices, config.shardsPerDevice, rng);
        break;
    }
    for (auto& part : parts)
    {
        std::sort(part.begin(), part.end());
    }
    return parts;
}

std::vector<std::vector<size_t>>
LabelHistograms(const Dataset& data, const std::vector<std::vector<uint32_t>>& parts)
{
    std::vector<std::vector<size_t>> hist(parts.size(),
                                          std::vector<size_t>(static_cast<size_t>(data.classes)));
    for (size_t d = 0; d < parts.size(); ++d)
    {
        for (uint32_t i : parts[d])
        {
            SLSIM_ASSERT_MSG(i < data.Size(), "LabelHistograms: sample index out of range");
            const uint8_t label = data.labels[i];
            SLSIM_ASSERT_MSG(label < data.classes, "LabelHistograms: label out of range");
            ++hist[d][label];
        }
    }
    return hist;
}

} // namespace slsim
