// Model zoo (mlp, lenet5, vgg11_bn, vgg19_bn, resnet18) and the split-model builders.
#include "models/model-zoo.h"

#include "models/layers.h"
#include "models/sequential.h"
#include "models/thread-pool.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <sched.h>
#include <string>
#include <thread>

namespace slsim
{

namespace
{

const std::vector<std::string> MODEL_NAMES = {"mlp", "lenet5", "vgg11_bn", "vgg19_bn", "resnet18"};

/// Whether layers of this type hold parameters (they get a module name by default).
bool
HasParameters(const std::string& type)
{
    return type == "conv" || type == "linear" || type == "batch_norm" || type == "residual";
}

std::unique_ptr<Layer>
MakeLayer(const LayerSpec& s, const Shape& in, uint64_t seed, size_t index)
{
    const std::string& t = s.type;
    if (t == "conv")
    {
        return std::make_unique<Conv2d>(in, s.outChannels, s.kernelSize, s.stride, s.padding,
                                        s.bias);
    }
    if (t == "linear")
    {
        return std::make_unique<Linear>(in, s.outFeatures, s.bias);
    }
    if (t == "batch_norm")
    {
        return std::make_unique<BatchNorm2d>(in);
    }
    if (t == "relu")
    {
        return std::make_unique<ReLU>(in);
    }
    if (t == "max_pool")
    {
        return std::make_unique<MaxPool2d>(in, s.kernelSize, s.stride);
    }
    if (t == "avg_pool")
    {
        return std::make_unique<AvgPool2d>(in, s.kernelSize, s.kernelSize, s.stride);
    }
    if (t == "global_avg_pool")
    {
        return AvgPool2d::Global(in);
    }
    if (t == "flatten")
    {
        return std::make_unique<Flatten>(in);
    }
    if (t == "dropout")
    {
        // The mask stream is the layer's index, as the zoo always drew it.
        return std::make_unique<Dropout>(in, s.p, seed, index);
    }
    SLSIM_ASSERT_MSG(t == "residual", "unknown layer type in a resolved spec");
    return std::make_unique<BasicBlock>(in, s.planes, s.stride, s.plain);
}

void
InitAll(Sequential* a, Sequential* b, uint64_t seed, Sequential* c = nullptr)
{
    Rng rng(seed, "init");
    a->InitParameters(rng);
    if (b)
    {
        b->InitParameters(rng);
    }
    if (c)
    {
        c->InitParameters(rng);
    }
}

/// model.head_cut resolved against the model's spec and its resolved cut.
size_t
HeadCutOf(const ModelConfig& model, size_t cut)
{
    return ResolveHeadCut(SpecOf(model), model.headCut, cut);
}

} // namespace

Architecture
BuildArchitecture(const ModelConfig& model, uint64_t seed)
{
    if (!(model.width > 0) || model.width > 64)
    {
        throw InputError("model.width: must be in (0, 64]");
    }
    if (model.threads < 0)
    {
        throw InputError("model.threads: must be >= 0 (0 = all cores)");
    }
    if (model.classes < 1)
    {
        throw InputError("model.classes: must be >= 1");
    }
    const ModelSpec spec = SpecOf(model);
    return BuildFromSpec(spec, model.input, model.classes, model.cut, seed);
}

Architecture
BuildFromSpec(const ModelSpec& spec, const Shape& input, int classes, const std::string& cut,
              uint64_t seed)
{
    // Every shape is checked before a layer exists (the constructors assert on misfits).
    const std::vector<Shape> shapes = SpecShapes(spec, input);
    if (shapes.back() != Shape{classes})
    {
        throw InputError("model.layers: the last layer gives " + shapes.back().ToString()
                         + " per sample, the dataset has " + std::to_string(classes)
                         + " classes (end with a linear layer of out_features "
                         + std::to_string(classes) + ")");
    }
    Architecture a;
    a.cut = ResolveCut(spec, cut);
    Shape in = input;
    for (size_t i = 0; i < spec.layers.size(); ++i)
    {
        const LayerSpec& s = spec.layers[i];
        std::unique_ptr<Layer> layer = MakeLayer(s, in, seed, i);
        // torch.nn.Sequential names unnamed modules by their index.
        layer->SetModuleName(s.name.empty() && HasParameters(s.type) ? std::to_string(i) : s.name);
        in = layer->OutputShape();
        SLSIM_ASSERT_MSG(in == shapes[i], "SpecShapes disagrees with a layer's output shape");
        a.layers.push_back(std::move(layer));
    }
    return a;
}

std::vector<std::string>
CutNames(const std::string& modelName)
{
    if (modelName == "custom")
    {
        return {}; // cuts are layer indices or layer names
    }
    if (std::find(MODEL_NAMES.begin(), MODEL_NAMES.end(), modelName) == MODEL_NAMES.end())
    {
        throw InputError("model.name: unknown model '" + modelName + "'");
    }
    return {"shallow", "medium", "deep"};
}

Shape
CutShape(const ModelConfig& model)
{
    return DescribeModel(model).cutShape;
}

ModelInfo
DescribeModel(const ModelConfig& model)
{
    Architecture a = BuildArchitecture(model, 0);
    ModelInfo info;
    info.layers = a.layers.size();
    info.cut = a.cut;
    info.cutShape = a.cut == 0 ? model.input : a.layers[a.cut - 1]->OutputShape();
    const size_t head = model.headCut.empty() ? a.layers.size() : HeadCutOf(model, a.cut);
    if (head < a.layers.size())
    {
        info.headCut = head;
        info.headCutShape = a.layers[head - 1]->OutputShape();
    }
    for (size_t i = 0; i < a.layers.size(); ++i)
    {
        const Flops f = a.layers[i]->FlopsPerSample();
        Flops& side = i < a.cut ? info.deviceFlops : i < head ? info.serverFlops : info.headFlops;
        side.forward += f.forward;
        side.backward += f.backward;
        (i < a.cut  ? info.deviceParameters
         : i < head ? info.serverParameters
                    : info.headParameters)
            += a.layers[i]->ParameterCount();
    }
    return info;
}

SplitModel
BuildSplitModel(const ModelConfig& model, const OptimizerConfig& opt, uint64_t seed)
{
    if (model.cut == "none")
    {
        throw InputError("model.cut: 'none' has no server part; use BuildModel");
    }
    Architecture a = BuildArchitecture(model, seed);
    // U-shaped: the layers from the head cut on are the device's head.
    const size_t head = model.headCut.empty() ? a.layers.size() : HeadCutOf(model, a.cut);
    SetThreadCount(model.threads);
    std::vector<std::unique_ptr<Layer>> device;
    std::vector<std::unique_ptr<Layer>> server;
    std::vector<std::unique_ptr<Layer>> headLayers;
    for (size_t i = 0; i < a.layers.size(); ++i)
    {
        (i < a.cut ? device : i < head ? server : headLayers).push_back(std::move(a.layers[i]));
    }
    auto d = std::make_unique<Sequential>(std::move(device), opt);
    auto s = std::make_unique<Sequential>(std::move(server), opt);
    auto h
        = headLayers.empty() ? nullptr : std::make_unique<Sequential>(std::move(headLayers), opt);
    InitAll(d.get(), s.get(), seed, h.get()); // in layer order: BuildModel's init
    SplitModel out;
    out.device = std::move(d);
    out.server = std::move(s);
    out.head = std::move(h);
    return out;
}

std::unique_ptr<Partition>
BuildModel(const ModelConfig& model, const OptimizerConfig& opt, uint64_t seed)
{
    Architecture a = BuildArchitecture(model, seed);
    SetThreadCount(model.threads);
    auto m = std::make_unique<Sequential>(std::move(a.layers), opt);
    InitAll(m.get(), nullptr, seed);
    m->SetInputGradientNeeded(false);
    return m;
}

int
DefaultThreadCount()
{
    // The CPUs this process may run on (taskset, cgroup cpusets), shared among the runs that a
    // sweep starts side by side: `slsim sweep -j N` tells its runs N in SLSIM_CONCURRENT_RUNS.
    cpu_set_t set;
    int cpus = 0;
    if (sched_getaffinity(0, sizeof(set), &set) == 0)
    {
        cpus = CPU_COUNT(&set);
    }
    if (cpus <= 0)
    {
        cpus = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    }
    int runs = 1;
    if (const char* env = std::getenv("SLSIM_CONCURRENT_RUNS"))
    {
        char* end = nullptr;
        const long v = std::strtol(env, &end, 10);
        runs = end != env && *end == '\0' && v >= 1 && v <= 4096 ? static_cast<int>(v) : 1;
    }
    return std::max(1, cpus / runs);
}

void
SetThreadCount(int threads)
{
    SetPoolThreads(threads > 0 ? threads : DefaultThreadCount());
}

} // namespace slsim
