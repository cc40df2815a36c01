// Agreement with PyTorch on fixtures made by scripts/make-fixtures (Debian's python3-torch).
#include "layer-harness.h"
#include "models/safetensors.h"
#include "models/split-model.h"

#include <map>

using namespace slsim;

namespace
{

const std::string FIXTURES = std::string(SLSIM_SOURCE_DIR) + "/tests/fixtures/models/";

const SafetensorsTensor&
Get(const std::map<std::string, SafetensorsTensor>& fx, const std::string& name)
{
    auto it = fx.find(name);
    INFO("fixture tensor " << name);
    REQUIRE(it != fx.end());
    return it->second;
}

/// max |a - b| <= atol + rtol * max |b|
void
CheckClose(const float* a, const std::vector<float>& b, const std::string& what, double rtol,
           double atol)
{
    double maxB = 0;
    double maxDiff = 0;
    for (size_t i = 0; i < b.size(); ++i)
    {
        maxB = std::max(maxB, static_cast<double>(std::fabs(b[i])));
        maxDiff = std::max(maxDiff, static_cast<double>(std::fabs(a[i] - b[i])));
    }
    INFO(what << ": max |diff| " << maxDiff << ", max |ref| " << maxB);
    CHECK(maxDiff <= atol + rtol * maxB);
}

void
RunLayerCase(const std::map<std::string, SafetensorsTensor>& fx, const std::string& name,
             std::unique_ptr<Layer> layer, bool training)
{
    BoundLayer b(std::move(layer));
    std::vector<NamedTensor> tensors;
    b.layer->AppendTensors(tensors);
    for (const NamedTensor& t : tensors)
    {
        if (t.kind != NamedTensor::COUNTER)
        {
            const auto& v = Get(fx, name + ".p." + t.name);
            REQUIRE(v.shape == t.shape);
            std::copy(v.values.begin(), v.values.end(), t.data);
        }
    }
    const auto& x = Get(fx, name + ".x");
    const int batch = static_cast<int>(x.shape.dims[0]);
    REQUIRE(static_cast<size_t>(b.InSize(batch)) == x.values.size());
    const float* y = b.layer->Forward(x.values.data(), batch, training);
    CheckClose(y, Get(fx, name + ".y").values, name + " output", 1e-5, 1e-6);
    const float* gx = b.layer->Backward(Get(fx, name + ".gy").values.data(), true);
    CheckClose(gx, Get(fx, name + ".gx").values, name + " input gradient", 1e-5, 1e-6);
    for (const NamedTensor& t : tensors)
    {
        if (t.kind == NamedTensor::PARAMETER)
        {
            const float* g = b.grads.data() + (t.data - b.params.data());
            CheckClose(g, Get(fx, name + ".g." + t.name).values, name + " grad " + t.name, 1e-5,
                       1e-6);
        }
        else if (t.kind == NamedTensor::BUFFER)
        {
            CheckClose(t.data, Get(fx, name + ".after." + t.name).values,
                       name + " buffer " + t.name, 1e-5, 1e-6);
        }
    }
}

} // namespace

TEST_CASE("Layers agree with PyTorch", "[models][pytorch]")
{
    const auto fx = ReadSafetensors(FIXTURES + "layers.safetensors");
    RunLayerCase(fx, "linear", std::make_unique<Linear>(Shape{10}, 7), true);
    RunLayerCase(fx, "conv_a", std::make_unique<Conv2d>(Shape{3, 7, 7}, 5, 3, 1, 1, true), true);
    RunLayerCase(fx, "conv_b", std::make_unique<Conv2d>(Shape{3, 8, 8}, 4, 3, 2, 1, false), true);
    RunLayerCase(fx, "conv_c", std::make_unique<Conv2d>(Shape{4, 5, 5}, 6, 1, 1, 0, true), true);
    RunLayerCase(fx, "conv_d", std::make_unique<Conv2d>(Shape{2, 9, 9}, 3, 5, 2, 2, true), true);
    RunLayerCase(fx, "bn_train", std::make_unique<BatchNorm2d>(Shape{3, 5, 5}), true);
    RunLayerCase(fx, "bn_eval", std::make_unique<BatchNorm2d>(Shape{3, 5, 5}), false);
    RunLayerCase(fx, "relu", std::make_unique<ReLU>(Shape{4, 5}), true);
    RunLayerCase(fx, "maxpool", std::make_unique<MaxPool2d>(Shape{3, 8, 8}, 2, 2), true);
    RunLayerCase(fx, "maxpool3", std::make_unique<MaxPool2d>(Shape{2, 7, 7}, 3, 2), true);
    RunLayerCase(fx, "avgpool", std::make_unique<AvgPool2d>(Shape{3, 8, 8}, 2, 2, 2), true);
    RunLayerCase(fx, "gap", AvgPool2d::Global(Shape{3, 5, 5}), true);
    RunLayerCase(fx, "block_id", std::make_unique<BasicBlock>(Shape{4, 6, 6}, 4, 1), true);
    RunLayerCase(fx, "block_ds", std::make_unique<BasicBlock>(Shape{4, 6, 6}, 8, 2), true);
    RunLayerCase(fx, "block_plain", std::make_unique<BasicBlock>(Shape{4, 6, 6}, 4, 1, true), true);

    const auto& z = Get(fx, "ce.x");
    std::vector<int32_t> labels;
    for (float l : Get(fx, "ce.labels").values)
    {
        labels.push_back(static_cast<int32_t>(l));
    }
    std::vector<float> g(z.values.size());
    const LossResult r = SoftmaxCrossEntropy(z.values.data(), labels.data(), 5, 7, g.data());
    CHECK(r.loss == Approx(Get(fx, "ce.loss").values[0]).epsilon(1e-6));
    CheckClose(g.data(), Get(fx, "ce.gx").values, "cross-entropy gradient", 1e-5, 1e-7);
}

TEST_CASE("A split ResNet18 (width 1/16) trains like PyTorch for two SGD steps",
          "[models][pytorch]")
{
    ModelConfig mc;
    mc.name = "resnet18";
    mc.width = 1.0 / 16;
    mc.input = Shape{3, 16, 16};
    mc.classes = 10;
    mc.cut = "medium";
    OptimizerConfig oc;
    oc.lr = 0.1;
    oc.momentum = 0.9;
    oc.weightDecay = 5e-4;
    oc.nesterov = true;
    SplitModel m = BuildSplitModel(mc, oc, 1);
    LoadCheckpoint(FIXTURES + "resnet18-tiny-init.safetensors", m); // PyTorch's init weights
    const auto fx = ReadSafetensors(FIXTURES + "resnet18-tiny.safetensors");
    const int batch = 8;
    std::vector<float> gradLogits(batch * 10);
    for (int step = 0; step < 2; ++step)
    {
        const std::string s = "step" + std::to_string(step) + ".";
        std::vector<int32_t> labels;
        for (float l : Get(fx, s + "labels").values)
        {
            labels.push_back(static_cast<int32_t>(l));
        }
        const float* act = m.device->Forward(Get(fx, s + "x").values.data(), batch, true);
        const float* logits = m.server->Forward(act, batch, true);
        CheckClose(logits, Get(fx, s + "logits").values, s + "logits", 1e-4, 1e-5);
        const LossResult r
            = SoftmaxCrossEntropy(logits, labels.data(), batch, 10, gradLogits.data());
        CHECK(r.loss == Approx(Get(fx, s + "loss").values[0]).epsilon(1e-5));
        m.device->Backward(m.server->Backward(gradLogits.data()));
        for (Partition* p : {m.device.get(), m.server.get()})
        {
            for (const NamedTensor& t : p->NamedTensors())
            {
                if (t.kind == NamedTensor::PARAMETER)
                {
                    const float* g = p->Gradients() + (t.data - p->Parameters());
                    CheckClose(g, Get(fx, s + "g." + t.name).values, s + "grad " + t.name, 2e-4,
                               1e-6);
                }
            }
        }
        m.device->Step();
        m.server->Step();
    }
    for (Partition* p : {m.device.get(), m.server.get()})
    {
        for (const NamedTensor& t : p->NamedTensors())
        {
            const std::vector<float> v(t.data, t.data + t.shape.Numel());
            CheckClose(v.data(), Get(fx, "final." + t.name).values, "final " + t.name, 1e-4, 1e-6);
        }
    }
    std::vector<float> x0 = Get(fx, "step0.x").values;
    const float* logits
        = m.server->Forward(m.device->Forward(x0.data(), batch, false), batch, false);
    CheckClose(logits, Get(fx, "eval.logits").values, "eval logits", 1e-4, 1e-5);
}
