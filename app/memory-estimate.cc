#include "app/memory-estimate.h"

#include "common/error.h"
#include "compression/codec.h"
#include "models/data/dataset.h"
#include "models/model-zoo.h"
#include "sim/schedule.h"

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
       << " x " << FormatBytes(deviceCopyBytes) << " device part + " << serverCopies << " x "
       << FormatBytes(serverCopyBytes) << " server part, activations " << FormatBytes(activations)
       << ", dataset " << FormatBytes(dataset) << ", network " << FormatBytes(network) << ", base "
       << FormatBytes(base) << ")";
    return os.str();
}

MemoryEstimate
EstimateMemory(const ScenarioConfig& c)
{
    MemoryEstimate e;
    e.base = BASE_BYTES;
    const double devices = static_cast<double>(c.network.devices.size());
    const bool replay = !c.training.replay.empty();
    const double batch = c.training.batchSize;

    // Models: the layers are built unbound (no parameter buffer), so a huge model costs nothing.
    ModelConfig model = c.model;
    model.input = DatasetSampleShape(c.dataset);
    model.classes = DatasetClasses(c.dataset);
    const Architecture a = BuildArchitecture(model, c.seed);
    const double inputNumel = static_cast<double>(model.input.Numel());
    PartSize device = SizeOf(a, 0, a.cut, inputNumel);
    const Shape cut = a.cut == 0 ? model.input : a.layers[a.cut - 1]->OutputShape();
    // U-shaped (model.head_cut): the layers from the head cut on are the device's.
    const size_t head = model.headCut.empty() ? a.layers.size()
                                              : ResolveHeadCut(SpecOf(model), model.headCut, a.cut);
    const PartSize server = SizeOf(a, a.cut, head, static_cast<double>(cut.Numel()));
    if (head < a.layers.size())
    {
        const PartSize h = SizeOf(a, head, a.layers.size(),
                                  static_cast<double>(a.layers[head - 1]->OutputShape().Numel()));
        device.params += h.params;
        device.buffers += h.buffers;
        device.activationsPerSample += h.activationsPerSample;
    }
    const double stateFloats = c.optimizer.name == "adam" ? 2 : 1;
    e.deviceCopyBytes = FLOAT_BYTES * ((2 + stateFloats) * device.params + device.buffers);
    e.serverCopyBytes = FLOAT_BYTES * ((2 + stateFloats) * server.params + server.buffers);
    bool perDeviceServer = false;
    if (!replay)
    {
        ScheduleContext context;
        context.stepsPerEpoch.assign(c.network.devices.size(), 1);
        context.shardSizes.assign(c.network.devices.size(), 1);
        perDeviceServer = MakeSchedule(c.schedule.kind, context)->PerDeviceServerCopies();
    }
    e.deviceCopies = replay ? 1 : devices + 1;
    e.serverCopies = perDeviceServer ? devices : 1;
    e.models = e.deviceCopies * e.deviceCopyBytes + e.serverCopies * e.serverCopyBytes;
    if (!replay)
    {
        const double serverBatch = std::max<double>(batch, c.training.evalBatch);
        e.activations = FLOAT_BYTES
                        * (e.deviceCopies * batch * device.activationsPerSample
                           + e.serverCopies * serverBatch * server.activationsPerSample
                           + devices * batch * inputNumel); // each device's input batch
    }

    // Dataset: a split is read whole before its subset is taken (then copied to fit), and the
    // subsets are copied into the partition; pixels and labels.
    DatasetConfig whole = c.dataset;
    whole.trainSubset = whole.testSubset = 0;
    const double train = static_cast<double>(InspectDataset(c.dataset, true));
    const double test = replay ? 0 : static_cast<double>(InspectDataset(c.dataset, false));
    const double read = static_cast<double>(InspectDataset(whole, true))
                        + (replay ? 0 : static_cast<double>(InspectDataset(whole, false)));
    e.dataset = (read + 2 * (train + test)) * (inputNumel + 1);

    // Network: node state and the frames in flight, each held by sender and assembler.
    std::vector<int64_t> dims{static_cast<int64_t>(batch)};
    dims.insert(dims.end(), cut.dims.begin(), cut.dims.end());
    const Shape batchCut(dims);
    const double frames = FrameBytes(ResolveBudget(c.uplink), batchCut)
                          + FrameBytes(ResolveBudget(c.downlink), batchCut)
                          + FrameBytes(ResolveBudget(c.sync),
                                       Shape{static_cast<int64_t>(std::max(1.0, device.params))});
    e.network = devices * (NODE_BYTES + 2 * frames);
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
