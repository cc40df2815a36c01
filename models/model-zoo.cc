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

int
Scaled(int channels, double width)
{
    return std::max(1, static_cast<int>(std::lround(channels * width)));
}

/// Appends layers and remembers named cut points.
class Builder
{
  public:
    explicit Builder(Shape input)
        : m_shape(std::move(input))
    {
    }

    template <typename L, typename... Args>
    L* Add(const std::string& moduleName, Args&&... args)
    {
        auto layer = std::make_unique<L>(m_shape, std::forward<Args>(args)...);
        layer->SetModuleName(moduleName);
        m_shape = layer->OutputShape();
        L* raw = layer.get();
        m_arch.layers.push_back(std::move(layer));
        return raw;
    }

    void AddLayer(std::unique_ptr<Layer> layer, const std::string& moduleName)
    {
        layer->SetModuleName(moduleName);
        m_shape = layer->OutputShape();
        m_arch.layers.push_back(std::move(layer));
    }

    void MarkCut(const std::string& name)
    {
        m_cuts[name] = m_arch.layers.size();
    }

    size_t Size() const
    {
        return m_arch.layers.size();
    }

    const Shape& Current() const
    {
        return m_shape;
    }

    Architecture Finish(const std::string& cut)
    {
        const size_t n = m_arch.layers.size();
        if (cut == "none")
        {
            m_arch.cut = n;
        }
        else if (m_cuts.count(cut))
        {
            m_arch.cut = m_cuts[cut];
        }
        else if (!cut.empty() && std::all_of(cut.begin(), cut.end(), ::isdigit) && cut.size() < 9)
        {
            const size_t k = static_cast<size_t>(std::stoul(cut));
            if (k < 1 || k >= n)
            {
                throw InputError("model.cut: layer index " + cut + " out of range [1, "
                                 + std::to_string(n - 1) + "]");
            }
            m_arch.cut = k;
        }
        else
        {
            throw InputError("model.cut: unknown cut '" + cut
                             + "' (expected shallow, medium, deep, none or a layer index)");
        }
        return std::move(m_arch);
    }

  private:
    Shape m_shape;
    Architecture m_arch;
    std::map<std::string, size_t> m_cuts;
};

void
RequireImage(const ModelConfig& m, int minSide)
{
    if (m.input.Rank() != 3 || m.input.dims[1] < minSide || m.input.dims[2] < minSide
        || m.input.dims[0] < 1)
    {
        throw InputError("model.input: " + m.name + " needs a CxHxW input with H, W >= "
                         + std::to_string(minSide) + ", got " + m.input.ToString());
    }
}

Architecture
BuildMlp(const ModelConfig& m)
{
    if (m.hidden.empty())
    {
        throw InputError("model.hidden: mlp needs at least one hidden layer");
    }
    if (m.input.Rank() < 1 || m.input.Numel() < 1)
    {
        throw InputError("model.input: mlp needs a non-empty input shape");
    }
    Builder b(m.input);
    b.Add<Flatten>("flatten");
    const size_t n = m.hidden.size();
    for (size_t i = 0; i < n; ++i)
    {
        if (m.hidden[i] <= 0)
        {
            throw InputError("model.hidden[" + std::to_string(i) + "]: must be > 0");
        }
        b.Add<Linear>("fc" + std::to_string(i + 1), Scaled(m.hidden[i], m.width));
        b.Add<ReLU>("");
        if (i == 0)
        {
            b.MarkCut("shallow");
        }
        if (i == n / 2)
        {
            b.MarkCut("medium");
        }
        if (i == n - 1)
        {
            b.MarkCut("deep");
        }
    }
    b.Add<Linear>("fc" + std::to_string(n + 1), m.classes);
    return b.Finish(m.cut);
}

Architecture
BuildLenet5(const ModelConfig& m)
{
    RequireImage(m, 28);
    // Classic LeNet-5 on 32x32; a 28x28 input gets padding 2 so that both give 28x28 after conv1.
    const int pad = m.input.dims[1] < 32 ? 2 : 0;
    Builder b(m.input);
    b.Add<Conv2d>("conv1", Scaled(6, m.width), 5, 1, pad, true);
    b.Add<ReLU>("");
    b.Add<MaxPool2d>("", 2, 2);
    b.MarkCut("shallow");
    b.Add<Conv2d>("conv2", Scaled(16, m.width), 5, 1, 0, true);
    b.Add<ReLU>("");
    b.Add<MaxPool2d>("", 2, 2);
    b.MarkCut("medium");
    b.Add<Flatten>("");
    b.Add<Linear>("fc1", Scaled(120, m.width));
    b.Add<ReLU>("");
    b.MarkCut("deep");
    b.Add<Linear>("fc2", Scaled(84, m.width));
    b.Add<ReLU>("");
    b.Add<Linear>("fc3", m.classes);
    return b.Finish(m.cut);
}

Architecture
BuildVgg(const ModelConfig& m, bool nineteen, uint64_t seed)
{
    RequireImage(m, 32);
    // torchvision cfg "A" (vgg11) and "E" (vgg19); 0 = max-pool.
    const std::vector<int> cfg11 = {64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0};
    const std::vector<int> cfg19 = {64,  64,  0,   128, 128, 0,   256, 256, 256, 256, 0,
                                    512, 512, 512, 512, 0,   512, 512, 512, 512, 0};
    const std::vector<int>& cfg = nineteen ? cfg19 : cfg11;
    // Cuts after conv k (its BN-ReLU and a directly following pool): VGG19 2/8/15 (the paper),
    // VGG11 1/4/6 (same cut shapes 64x16x16, 256x4x4, 512x2x2 at width 1).
    const std::map<int, std::string> cuts
        = nineteen ? std::map<int, std::string>{{2, "shallow"}, {8, "medium"}, {15, "deep"}}
                   : std::map<int, std::string>{{1, "shallow"}, {4, "medium"}, {6, "deep"}};
    Builder b(m.input);
    int index = 0; // torchvision's features.<index>
    int conv = 0;
    std::string pending; // a cut waiting for the pool that follows its conv
    for (size_t i = 0; i < cfg.size(); ++i)
    {
        if (cfg[i] == 0)
        {
            b.Add<MaxPool2d>("features." + std::to_string(index++), 2, 2);
            if (!pending.empty())
            {
                b.MarkCut(pending);
                pending.clear();
            }
            continue;
        }
        b.Add<Conv2d>("features." + std::to_string(index++), Scaled(cfg[i], m.width), 3, 1, 1,
                      true);
        b.Add<BatchNorm2d>("features." + std::to_string(index++));
        b.Add<ReLU>("features." + std::to_string(index++));
        ++conv;
        if (cuts.count(conv))
        {
            if (i + 1 < cfg.size() && cfg[i + 1] == 0)
            {
                pending = cuts.at(conv);
            }
            else
            {
                b.MarkCut(cuts.at(conv)); // no pool follows: cut right after the ReLU
            }
        }
    }
    b.Add<Flatten>("");
    const int hidden = Scaled(4096, m.width);
    b.Add<Linear>("classifier.0", hidden);
    b.Add<ReLU>("classifier.1");
    b.Add<Dropout>("classifier.2", 0.5, seed, b.Size());
    b.Add<Linear>("classifier.3", hidden);
    b.Add<ReLU>("classifier.4");
    b.Add<Dropout>("classifier.5", 0.5, seed, b.Size());
    b.Add<Linear>("classifier.6", m.classes);
    return b.Finish(m.cut);
}

Architecture
BuildResnet18(const ModelConfig& m)
{
    RequireImage(m, 8);
    Builder b(m.input);
    b.Add<Conv2d>("conv1", Scaled(64, m.width), 3, 1, 1, false); // CIFAR stem: 3x3, no max-pool
    b.Add<BatchNorm2d>("bn1");
    b.Add<ReLU>("relu");
    const int planes[4] = {64, 128, 256, 512};
    for (int layer = 0; layer < 4; ++layer)
    {
        for (int block = 0; block < 2; ++block)
        {
            const int stride = (layer > 0 && block == 0) ? 2 : 1;
            // The paper's shallow cut replaces layer1[0] by a plain conv-BN-conv-BN-ReLU block.
            const bool plain = layer == 0 && block == 0 && m.cut == "shallow";
            b.Add<BasicBlock>("layer" + std::to_string(layer + 1) + "." + std::to_string(block),
                              Scaled(planes[layer], m.width), stride, plain);
            if (layer == 0 && block == 0)
            {
                b.MarkCut("shallow");
            }
        }
        if (layer == 1)
        {
            b.MarkCut("medium");
        }
        if (layer == 2)
        {
            b.MarkCut("deep");
        }
    }
    b.AddLayer(AvgPool2d::Global(b.Current()), "avgpool");
    b.Add<Flatten>("");
    b.Add<Linear>("fc", m.classes);
    return b.Finish(m.cut);
}

void
InitAll(Sequential* a, Sequential* b, uint64_t seed)
{
    Rng rng(seed, "init");
    a->InitParameters(rng);
    if (b)
    {
        b->InitParameters(rng);
    }
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
    if (model.name == "mlp")
    {
        return BuildMlp(model);
    }
    if (model.name == "lenet5")
    {
        return BuildLenet5(model);
    }
    if (model.name == "vgg11_bn" || model.name == "vgg19_bn")
    {
        return BuildVgg(model, model.name == "vgg19_bn", seed);
    }
    if (model.name == "resnet18")
    {
        return BuildResnet18(model);
    }
    throw InputError("model.name: unknown model '" + model.name
                     + "' (expected mlp, lenet5, vgg11_bn, vgg19_bn or resnet18)");
}

std::vector<std::string>
CutNames(const std::string& modelName)
{
    if (std::find(MODEL_NAMES.begin(), MODEL_NAMES.end(), modelName) == MODEL_NAMES.end())
    {
        throw InputError("model.name: unknown model '" + modelName + "'");
    }
    return {"shallow", "medium", "deep"};
}

Shape
CutShape(const ModelConfig& model)
{
    Architecture a = BuildArchitecture(model, 0);
    return a.cut == 0 ? model.input : a.layers[a.cut - 1]->OutputShape();
}

SplitModel
BuildSplitModel(const ModelConfig& model, const OptimizerConfig& opt, uint64_t seed)
{
    if (model.cut == "none")
    {
        throw InputError("model.cut: 'none' has no server part; use BuildModel");
    }
    Architecture a = BuildArchitecture(model, seed);
    SetThreadCount(model.threads);
    std::vector<std::unique_ptr<Layer>> device;
    std::vector<std::unique_ptr<Layer>> server;
    for (size_t i = 0; i < a.layers.size(); ++i)
    {
        (i < a.cut ? device : server).push_back(std::move(a.layers[i]));
    }
    auto d = std::make_unique<Sequential>(std::move(device), opt);
    auto s = std::make_unique<Sequential>(std::move(server), opt);
    InitAll(d.get(), s.get(), seed);
    SplitModel out;
    out.device = std::move(d);
    out.server = std::move(s);
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
