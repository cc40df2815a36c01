// Model specs: the zoo presets written as layer lists, shape checks and cut resolution.
#include "models/model-spec.h"

#include "common/error.h"
#include "models/split-model.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace slsim
{

namespace
{

int
Scaled(int channels, double width)
{
    return std::max(1, static_cast<int>(std::lround(channels * width)));
}

LayerSpec
Make(const std::string& type, const std::string& name = "")
{
    LayerSpec s;
    s.type = type;
    s.name = name;
    return s;
}

LayerSpec
Conv(const std::string& name, int out, int kernel, int stride, int padding, bool bias)
{
    LayerSpec s = Make("conv", name);
    s.outChannels = out;
    s.kernelSize = kernel;
    s.stride = stride;
    s.padding = padding;
    s.bias = bias;
    return s;
}

LayerSpec
LinearSpec(const std::string& name, int out)
{
    LayerSpec s = Make("linear", name);
    s.outFeatures = out;
    return s;
}

LayerSpec
MaxPool(const std::string& name, int kernel, int stride)
{
    LayerSpec s = Make("max_pool", name);
    s.kernelSize = kernel;
    s.stride = stride;
    return s;
}

LayerSpec
Residual(const std::string& name, int planes, int stride, bool plain)
{
    LayerSpec s = Make("residual", name);
    s.planes = planes;
    s.stride = stride;
    s.plain = plain;
    return s;
}

/// Appends layer specs and remembers named cut points.
class SpecBuilder
{
  public:
    void Add(LayerSpec s)
    {
        m_spec.layers.push_back(std::move(s));
    }

    void MarkCut(const std::string& name)
    {
        m_spec.cuts[name] = m_spec.layers.size();
    }

    size_t Size() const
    {
        return m_spec.layers.size();
    }

    ModelSpec Finish()
    {
        return std::move(m_spec);
    }

  private:
    ModelSpec m_spec;
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

ModelSpec
MlpSpec(const ModelConfig& m)
{
    if (m.hidden.empty())
    {
        throw InputError("model.hidden: mlp needs at least one hidden layer");
    }
    if (m.input.Rank() < 1 || m.input.Numel() < 1)
    {
        throw InputError("model.input: mlp needs a non-empty input shape");
    }
    SpecBuilder b;
    b.Add(Make("flatten", "flatten"));
    const size_t n = m.hidden.size();
    for (size_t i = 0; i < n; ++i)
    {
        if (m.hidden[i] <= 0)
        {
            throw InputError("model.hidden[" + std::to_string(i) + "]: must be > 0");
        }
        b.Add(LinearSpec("fc" + std::to_string(i + 1), Scaled(m.hidden[i], m.width)));
        b.Add(Make("relu"));
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
    b.Add(LinearSpec("fc" + std::to_string(n + 1), m.classes));
    return b.Finish();
}

ModelSpec
Lenet5Spec(const ModelConfig& m)
{
    RequireImage(m, 28);
    // Classic LeNet-5 on 32x32; a 28x28 input gets padding 2 so that both give 28x28 after conv1.
    const int pad = m.input.dims[1] < 32 ? 2 : 0;
    SpecBuilder b;
    b.Add(Conv("conv1", Scaled(6, m.width), 5, 1, pad, true));
    b.Add(Make("relu"));
    b.Add(MaxPool("", 2, 2));
    b.MarkCut("shallow");
    b.Add(Conv("conv2", Scaled(16, m.width), 5, 1, 0, true));
    b.Add(Make("relu"));
    b.Add(MaxPool("", 2, 2));
    b.MarkCut("medium");
    b.Add(Make("flatten"));
    b.Add(LinearSpec("fc1", Scaled(120, m.width)));
    b.Add(Make("relu"));
    b.MarkCut("deep");
    b.Add(LinearSpec("fc2", Scaled(84, m.width)));
    b.Add(Make("relu"));
    b.Add(LinearSpec("fc3", m.classes));
    return b.Finish();
}

ModelSpec
VggSpec(const ModelConfig& m, bool nineteen)
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
    SpecBuilder b;
    int index = 0; // torchvision's features.<index>
    int conv = 0;
    std::string pending; // a cut waiting for the pool that follows its conv
    for (size_t i = 0; i < cfg.size(); ++i)
    {
        if (cfg[i] == 0)
        {
            b.Add(MaxPool("features." + std::to_string(index++), 2, 2));
            if (!pending.empty())
            {
                b.MarkCut(pending);
                pending.clear();
            }
            continue;
        }
        b.Add(Conv("features." + std::to_string(index++), Scaled(cfg[i], m.width), 3, 1, 1, true));
        b.Add(Make("batch_norm", "features." + std::to_string(index++)));
        b.Add(Make("relu", "features." + std::to_string(index++)));
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
    b.Add(Make("flatten"));
    const int hidden = Scaled(4096, m.width);
    b.Add(LinearSpec("classifier.0", hidden));
    b.Add(Make("relu", "classifier.1"));
    b.Add(Make("dropout", "classifier.2"));
    b.Add(LinearSpec("classifier.3", hidden));
    b.Add(Make("relu", "classifier.4"));
    b.Add(Make("dropout", "classifier.5"));
    b.Add(LinearSpec("classifier.6", m.classes));
    return b.Finish();
}

ModelSpec
Resnet18Spec(const ModelConfig& m)
{
    RequireImage(m, 8);
    SpecBuilder b;
    b.Add(Conv("conv1", Scaled(64, m.width), 3, 1, 1, false)); // CIFAR stem: 3x3, no max-pool
    b.Add(Make("batch_norm", "bn1"));
    b.Add(Make("relu", "relu"));
    const int planes[4] = {64, 128, 256, 512};
    for (int layer = 0; layer < 4; ++layer)
    {
        for (int block = 0; block < 2; ++block)
        {
            const int stride = (layer > 0 && block == 0) ? 2 : 1;
            // The paper's shallow cut replaces layer1[0] by a plain conv-BN-conv-BN-ReLU block.
            const bool plain = layer == 0 && block == 0 && m.cut == "shallow";
            b.Add(Residual("layer" + std::to_string(layer + 1) + "." + std::to_string(block),
                           Scaled(planes[layer], m.width), stride, plain));
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
    b.Add(Make("global_avg_pool", "avgpool"));
    b.Add(Make("flatten"));
    b.Add(LinearSpec("fc", m.classes));
    return b.Finish();
}

// Which keys each type takes (besides type and name).
const std::map<std::string, std::set<std::string>>&
KeysByType()
{
    static const std::map<std::string, std::set<std::string>> keys
        = {{"conv", {"out_channels", "kernel_size", "stride", "padding", "bias", "in_channels"}},
           {"linear", {"out_features", "bias", "in_features"}},
           {"batch_norm", {"num_features"}},
           {"relu", {}},
           {"max_pool", {"kernel_size", "stride"}},
           {"avg_pool", {"kernel_size", "stride"}},
           {"global_avg_pool", {}},
           {"flatten", {}},
           {"dropout", {"p"}},
           {"residual", {"planes", "stride", "plain", "in_channels"}}};
    return keys;
}

std::string
At(const std::string& path, const char* key)
{
    return path + "." + key;
}

std::string
N(int64_t v)
{
    return std::to_string(v);
}

/// Throws "<path>: <type> needs a CxHxW input ..." unless the input is an image.
void
NeedImage(const LayerSpec& s, const Shape& in, const std::string& path)
{
    if (in.Rank() != 3)
    {
        throw InputError(path + ": " + s.type + " needs a CxHxW input, got " + in.ToString()
                         + (in.Rank() == 1 ? " (after a flatten)" : ""));
    }
}

void
CheckIn(int given, int64_t actual, const std::string& path, const std::string& what)
{
    if (given > 0 && given != actual)
    {
        throw InputError(path + ": " + N(given) + " but the input has " + N(actual) + " " + what);
    }
}

/// Output side of a window sliding over `side` (+ padding): (side + 2p - k) / s + 1.
int64_t
Slide(int64_t side, int kernel, int stride, int padding, const std::string& path, const Shape& in)
{
    if (side + 2 * padding < kernel)
    {
        throw InputError(At(path, "kernel_size") + ": " + N(kernel) + " is larger than the input "
                         + in.ToString()
                         + (padding ? " with padding " + N(padding) : std::string()));
    }
    return (side + 2 * padding - kernel) / stride + 1;
}

Shape
OutputOf(const LayerSpec& s, const Shape& in, const std::string& path)
{
    const std::string& t = s.type;
    if (t == "relu" || t == "dropout")
    {
        return in;
    }
    if (t == "flatten")
    {
        return Shape{in.Numel()};
    }
    if (t == "linear")
    {
        if (in.Rank() != 1)
        {
            throw InputError(path + ": linear needs a flat input, got " + in.ToString()
                             + " (add a flatten layer before it)");
        }
        CheckIn(s.inFeatures, in.dims[0], At(path, "in_features"), "features");
        return Shape{s.outFeatures};
    }
    NeedImage(s, in, path);
    const int64_t c = in.dims[0], h = in.dims[1], w = in.dims[2];
    if (t == "batch_norm")
    {
        CheckIn(s.numFeatures, c, At(path, "num_features"),
                "channels (shape " + in.ToString() + ")");
        return in;
    }
    if (t == "conv")
    {
        CheckIn(s.inChannels, c, At(path, "in_channels"), "channels (shape " + in.ToString() + ")");
        return Shape{s.outChannels, Slide(h, s.kernelSize, s.stride, s.padding, path, in),
                     Slide(w, s.kernelSize, s.stride, s.padding, path, in)};
    }
    if (t == "max_pool" || t == "avg_pool")
    {
        return Shape{c, Slide(h, s.kernelSize, s.stride, 0, path, in),
                     Slide(w, s.kernelSize, s.stride, 0, path, in)};
    }
    if (t == "global_avg_pool")
    {
        return Shape{c, 1, 1};
    }
    // residual: conv3x3(stride, padding 1) then conv3x3(1, 1)
    CheckIn(s.inChannels, c, At(path, "in_channels"), "channels (shape " + in.ToString() + ")");
    return Shape{s.planes, (h - 1) / s.stride + 1, (w - 1) / s.stride + 1};
}

} // namespace

bool
LayerSpec::operator==(const LayerSpec& o) const
{
    return type == o.type && name == o.name && outChannels == o.outChannels
           && outFeatures == o.outFeatures && planes == o.planes && kernelSize == o.kernelSize
           && stride == o.stride && padding == o.padding && bias == o.bias && p == o.p
           && plain == o.plain && inChannels == o.inChannels && inFeatures == o.inFeatures
           && numFeatures == o.numFeatures;
}

const std::vector<std::string>&
LayerTypes()
{
    static const std::vector<std::string> types
        = {"conv",     "linear",          "batch_norm", "relu",    "max_pool",
           "avg_pool", "global_avg_pool", "flatten",    "dropout", "residual"};
    return types;
}

bool
LayerKeyApplies(const std::string& type, const std::string& key)
{
    auto it = KeysByType().find(type);
    return it != KeysByType().end() && it->second.count(key) > 0;
}

void
ResolveLayerSpec(LayerSpec& s, const std::string& path)
{
    const std::string& t = s.type;
    auto need = [&path](int v, const char* key, const std::string& type) {
        if (v <= 0)
        {
            throw InputError(At(path, key) + ": required for " + type + " (an integer >= 1)");
        }
    };
    if (t == "conv")
    {
        need(s.outChannels, "out_channels", t);
        need(s.kernelSize, "kernel_size", t);
    }
    else if (t == "linear")
    {
        need(s.outFeatures, "out_features", t);
    }
    else if (t == "max_pool" || t == "avg_pool")
    {
        need(s.kernelSize, "kernel_size", t);
    }
    else if (t == "residual")
    {
        need(s.planes, "planes", t);
    }
    if (s.stride == 0)
    {
        // PyTorch's defaults: Conv2d stride 1; MaxPool2d/AvgPool2d stride = kernel_size.
        s.stride = (t == "max_pool" || t == "avg_pool") ? s.kernelSize : 1;
    }
    if (t == "dropout" && !(s.p >= 0 && s.p < 1))
    {
        throw InputError(At(path, "p") + ": must be in [0, 1)");
    }
}

ModelSpec
PresetSpec(const ModelConfig& model)
{
    if (model.name == "mlp")
    {
        return MlpSpec(model);
    }
    if (model.name == "lenet5")
    {
        return Lenet5Spec(model);
    }
    if (model.name == "vgg11_bn" || model.name == "vgg19_bn")
    {
        return VggSpec(model, model.name == "vgg19_bn");
    }
    if (model.name == "resnet18")
    {
        return Resnet18Spec(model);
    }
    throw InputError("model.name: unknown model '" + model.name
                     + "' (expected mlp, lenet5, vgg11_bn, vgg19_bn, resnet18 or custom)");
}

ModelSpec
SpecOf(const ModelConfig& model)
{
    if (model.name != "custom")
    {
        ModelSpec spec = PresetSpec(model);
        for (size_t i = 0; i < spec.layers.size(); ++i)
        {
            ResolveLayerSpec(spec.layers[i], "model.layers[" + std::to_string(i) + "]");
        }
        return spec;
    }
    if (model.layers.empty())
    {
        throw InputError("model.layers: a custom model needs at least one layer");
    }
    ModelSpec spec;
    spec.layers = model.layers;
    std::set<std::string> names;
    for (size_t i = 0; i < spec.layers.size(); ++i)
    {
        const std::string path = "model.layers[" + std::to_string(i) + "]";
        ResolveLayerSpec(spec.layers[i], path);
        const std::string& name = spec.layers[i].name;
        if (!name.empty() && !names.insert(name).second)
        {
            throw InputError(path + ".name: \"" + name + "\" is used by an earlier layer");
        }
    }
    return spec;
}

std::vector<Shape>
SpecShapes(const ModelSpec& spec, const Shape& input)
{
    std::vector<Shape> shapes;
    Shape in = input;
    for (size_t i = 0; i < spec.layers.size(); ++i)
    {
        in = OutputOf(spec.layers[i], in, "model.layers[" + std::to_string(i) + "]");
        shapes.push_back(in);
    }
    return shapes;
}

namespace
{

/// ResolveCut for the key `key` (model.cut or model.head_cut): its messages name the key.
size_t
ResolveCutAt(const ModelSpec& spec, const std::string& cut, const std::string& key)
{
    const size_t n = spec.layers.size();
    if (cut == "none")
    {
        return n;
    }
    size_t k = 0;
    if (spec.cuts.count(cut))
    {
        k = spec.cuts.at(cut);
    }
    else if (!cut.empty() && cut.size() < 9
             && cut.find_first_not_of("0123456789") == std::string::npos)
    {
        k = static_cast<size_t>(std::stoul(cut));
        if (k < 1 || k >= n)
        {
            throw InputError(key + ": layer index " + cut + " out of range [1, "
                             + std::to_string(n - 1) + "]");
        }
        return k;
    }
    else
    {
        for (size_t i = 0; i < n && k == 0; ++i)
        {
            if (spec.layers[i].name == cut)
            {
                k = i + 1;
            }
        }
        if (k == 0)
        {
            std::string named;
            for (const auto& kv : spec.cuts)
            {
                named += kv.first + ", ";
            }
            throw InputError(key + ": unknown cut '" + cut + "' (expected " + named
                             + "a layer index or a layer's name)");
        }
    }
    if (k >= n)
    {
        throw InputError(key + ": '" + cut + "' is the last layer: the "
                         + (key == "model.cut" ? "server" : "head") + " would have no layers");
    }
    return k;
}

} // namespace

size_t
ResolveCut(const ModelSpec& spec, const std::string& cut)
{
    return ResolveCutAt(spec, cut, "model.cut");
}

size_t
ResolveHeadCut(const ModelSpec& spec, const std::string& headCut, size_t cut)
{
    if (headCut == "none")
    {
        throw InputError("model.head_cut: 'none' leaves the device no head (omit the key for a "
                         "split without one)");
    }
    const size_t k = ResolveCutAt(spec, headCut, "model.head_cut");
    if (k <= cut)
    {
        throw InputError("model.head_cut: '" + headCut + "' ends after layer " + std::to_string(k)
                         + ", not after the cut (layer " + std::to_string(cut)
                         + "): the server part would have no layers");
    }
    return k;
}

} // namespace slsim
