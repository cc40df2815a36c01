#include "app/memory-estimate.h"

#include "common/error.h"
#include "compression/codec.h"
#include "models/data/dataset.h"
#include "models/model-zoo.h"
#include "sim/schedule.h"
#include "sim/sides.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>

namespace slsim
{

namespace
{

constexpr double FLOAT_BYTES = 4;
constexpr double NODE_BYTES = 256 * 1024;     // ns-3 node + stack + sockets per device
constexpr double BASE_BYTES = 32 * 1048576.0; // the process before the scenario's buffers
constexpr double IM2COL_PER_INPUT = 9;        // a 3x3 convolution's column buffer per input value

/// Parameters, buffers and activation floats per sample of layers [from, to).
struct PartSize
{
    double params = 0, buffers = 0, activationsPerSample = 0;
};

PartSize
SizeOf(const Architecture& a, size_t from, size_t to, double inputNumel)
{
    PartSize p;
    double in = inputNumel, workspace = 0;
    for (size_t i = from; i < to; ++i)
    {
        const Layer& layer = *a.layers[i];
        p.params += static_cast<double>(layer.ParameterCount());
        p.buffers += static_cast<double>(layer.BufferCount());
        const double out = static_cast<double>(layer.OutputShape().Numel());
        p.activationsPerSample += 2 * out; // the output and its gradient
        workspace = std::max(workspace, IM2COL_PER_INPUT * in);
        in = out;
    }
    p.activationsPerSample += workspace;
    return p;
}

/// Bytes of a frame carrying `shape` through `codec` (exact: sizes are data-independent).
double
FrameBytes(const CodecConfig& codec, const Shape& shape)
{
    return static_cast<double>(MakeCodec(codec)->EncodedSize(shape));
}

} // namespace

std::string
FormatBytes(double bytes)
{
    const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
    size_t u = 0;
    while (bytes >= 1000 && u + 1 < sizeof(units) / sizeof(units[0]))
    {
        bytes /= 1000;
        ++u;
    }
    char buf[48];
    std::snprintf(buf, sizeof(buf), "%.3g %s", bytes, units[u]);
    return buf;
}

std::string
MemoryEstimate::Describe() const
{
    std::ostringstream os;
    os << FormatBytes(Total()) << " (models " << FormatBytes(models) << " = " << deviceCopies
       << " device parts " << FormatBytes(deviceBytes) << " + " << serverCopies << " server parts "
       << FormatBytes(serverBytes) << ", activations " << FormatBytes(activations) << ", dataset "
       << FormatBytes(dataset) << ", network " << FormatBytes(network) << ", base "
       << FormatBytes(base) << ")";
    return os.str();
}

namespace
{

/// One cut's parts: the device part (U-shaped: with its head), the server part, and the frames of
/// one step (uplink and downlink at the cut; U-shaped: server output and head gradient too) and
/// of a sync, for a batch.
struct CutParts
{
    PartSize device, server;
    double deviceCopyBytes = 0, serverCopyBytes = 0, frameBytes = 0;
};

CutParts
PartsAt(const ScenarioConfig& c, const ModelConfig& model)
{
    CutParts p;
    const Architecture a = BuildArchitecture(model, c.seed);
    const double inputNumel = static_cast<double>(model.input.Numel());
    p.device = SizeOf(a, 0, a.cut, inputNumel);
    const Shape cut = a.cut == 0 ? model.input : a.layers[a.cut - 1]->OutputShape();
    // U-shaped (model.head_cut): the layers from the head cut on are the device's.
    const size_t head = model.headCut.empty() ? a.layers.size()
                                              : ResolveHeadCut(SpecOf(model), model.headCut, a.cut);
    p.server = SizeOf(a, a.cut, head, static_cast<double>(cut.Numel()));
    const auto batchOf = [&](const Shape& sample) {
        std::vector<int64_t> dims{static_cast<int64_t>(c.training.batchSize)};
        dims.insert(dims.end(), sample.dims.begin(), sample.dims.end());
        return Shape(dims);
    };
    if (head < a.layers.size())
    {
        const Shape middle = a.layers[head - 1]->OutputShape();
        const PartSize h = SizeOf(a, head, a.layers.size(), static_cast<double>(middle.Numel()));
        p.device.params += h.params;
        p.device.buffers += h.buffers;
        p.device.activationsPerSample += h.activationsPerSample;
        // The two extra frames of a U-shaped step: server output down, head gradient up.
        p.frameBytes += FrameBytes(ResolveBudget(c.headDownlink), batchOf(middle))
                        + FrameBytes(ResolveBudget(c.headUplink), batchOf(middle));
    }
    const double stateFloats = c.optimizer.name == "adam" ? 2 : 1;
    p.deviceCopyBytes = FLOAT_BYTES * ((2 + stateFloats) * p.device.params + p.device.buffers);
    p.serverCopyBytes = FLOAT_BYTES * ((2 + stateFloats) * p.server.params + p.server.buffers);
    p.frameBytes += FrameBytes(ResolveBudget(c.uplink), batchOf(cut))
                    + FrameBytes(ResolveBudget(c.downlink), batchOf(cut))
                    + FrameBytes(ResolveBudget(c.sync),
                                 Shape{static_cast<int64_t>(std::max(1.0, p.device.params))});
    return p;
}

} // namespace

MemoryEstimate
EstimateMemory(const ScenarioConfig& c)
{
    MemoryEstimate e;
    e.base = BASE_BYTES;
    const double devices = static_cast<double>(c.network.devices.size());
    const bool replay = !c.training.replay.empty();
    const double batch = c.training.batchSize;

    // Models: the layers are built unbound (no parameter buffer), so a huge model costs nothing.
    // Per-device cuts (sim/sides.h): each device's part is at its own cut, the server keeps a
    // part per distinct cut (per device at its cut with per-device server copies) and a device
    // part per distinct cut (the agreed states); evaluation uses device 0's cut.
    ModelConfig model = c.model;
    model.input = DatasetSampleShape(c.dataset);
    model.classes = DatasetClasses(c.dataset);
    const DeviceCuts cuts = ResolveDeviceCuts(model, c.network.devices);
    std::vector<CutParts> parts;
    for (int g = 0; g < std::max(1, cuts.groups); ++g)
    {
        ModelConfig m = model;
        if (!cuts.cut.empty())
        {
            const auto first = std::find(cuts.group.begin(), cuts.group.end(), g);
            m.cut = cuts.cut[static_cast<size_t>(first - cuts.group.begin())];
        }
        parts.push_back(PartsAt(c, m));
    }
    const auto groupOf = [&](size_t d) { return static_cast<size_t>(cuts.group[d]); };
    const double inputNumel = static_cast<double>(model.input.Numel());
    bool perDeviceServer = false;
    if (!replay)
    {
        ScheduleContext context;
        context.stepsPerEpoch.assign(c.network.devices.size(), 1);
        context.shardSizes.assign(c.network.devices.size(), 1);
        perDeviceServer = MakeSchedule(c.schedule.kind, context)->PerDeviceServerCopies();
    }
    // Server copies: per device at its cut, else one per distinct cut.
    std::vector<size_t> serverCopies;
    for (size_t d = 0; perDeviceServer && d < c.network.devices.size(); ++d)
    {
        serverCopies.push_back(groupOf(d));
    }
    for (size_t g = 0; !perDeviceServer && g < parts.size(); ++g)
    {
        serverCopies.push_back(g);
    }
    // Device copies: the server's evaluation copy (device 0's cut), the devices' own parts, and
    // with several cuts one per cut for the agreed states.
    std::vector<size_t> deviceCopies{0};
    for (size_t d = 0; !replay && d < c.network.devices.size(); ++d)
    {
        deviceCopies.push_back(groupOf(d));
    }
    for (size_t g = 0; parts.size() > 1 && g < parts.size(); ++g)
    {
        deviceCopies.push_back(g);
    }
    const double serverBatch = std::max<double>(batch, c.training.evalBatch);
    for (size_t g : deviceCopies)
    {
        e.deviceBytes += parts[g].deviceCopyBytes;
        e.activations += replay ? 0 : FLOAT_BYTES * batch * parts[g].device.activationsPerSample;
    }
    for (size_t g : serverCopies)
    {
        e.serverBytes += parts[g].serverCopyBytes;
        e.activations
            += replay ? 0 : FLOAT_BYTES * serverBatch * parts[g].server.activationsPerSample;
    }
    e.deviceCopies = static_cast<double>(deviceCopies.size());
    e.serverCopies = static_cast<double>(serverCopies.size());
    e.models = e.deviceBytes + e.serverBytes;
    if (!replay)
    {
        e.activations += FLOAT_BYTES * devices * batch * inputNumel; // each device's input batch
    }

    // Dataset: a split is read whole before its subset is taken (then copied to fit), and the
    // subsets are copied into the partition; pixels and labels. An upper bound for CIFAR-10's
    // binary batches, of which a subset reads only its records (models/data/dataset.cc).
    DatasetConfig whole = c.dataset;
    whole.trainSubset = whole.testSubset = 0;
    const double train = static_cast<double>(InspectDataset(c.dataset, true));
    const double test = replay ? 0 : static_cast<double>(InspectDataset(c.dataset, false));
    const double read = static_cast<double>(InspectDataset(whole, true))
                        + (replay ? 0 : static_cast<double>(InspectDataset(whole, false)));
    e.dataset = (read + 2 * (train + test)) * (inputNumel + 1);

    // Network: node state and the frames in flight (each device's at its own cut), each held by
    // sender and assembler.
    for (size_t d = 0; d < c.network.devices.size(); ++d)
    {
        e.network += NODE_BYTES + 2 * parts[groupOf(d)].frameBytes;
    }
    return e;
}

double
AvailableMemory(std::string* source)
{
    if (const char* env = std::getenv("SLSIM_MEMORY_AVAILABLE_MB"))
    {
        char* end = nullptr;
        const double mb = std::strtod(env, &end);
        if (end == env || *end != '\0' || !(mb > 0) || mb > 1e12)
        {
            throw InputError(std::string("SLSIM_MEMORY_AVAILABLE_MB: expected a positive number of "
                                         "MB, got '")
                             + env + "'");
        }
        if (source)
        {
            *source = "SLSIM_MEMORY_AVAILABLE_MB";
        }
        return mb * 1e6;
    }
    std::ifstream in("/proc/meminfo");
    std::string key;
    double kb = 0;
    std::string unit;
    while (in >> key >> kb >> unit)
    {
        if (key == "MemAvailable:")
        {
            if (source)
            {
                *source = "MemAvailable in /proc/meminfo";
            }
            return kb * 1024;
        }
    }
    if (source)
    {
        *source = "unknown (no MemAvailable in /proc/meminfo)";
    }
    return std::numeric_limits<double>::infinity();
}

void
CheckMemory(const MemoryEstimate& estimate)
{
    std::string source;
    const double available = AvailableMemory(&source);
    if (estimate.Total() > available)
    {
        throw InputError("memory: the run needs an estimated " + estimate.Describe()
                         + ", more than the " + FormatBytes(available) + " available (" + source
                         + "; SLSIM_MEMORY_AVAILABLE_MB overrides)");
    }
}

} // namespace slsim
