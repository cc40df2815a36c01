#include "app/scenario-keys.h"

#include "app/data-folder.h"
#include "app/device-resolver.h"
#include "app/fs-util.h"
#include "common/csv-reader.h"
#include "common/error.h"
#include "compression/codec.h"
#include "models/data/dataset.h"
#include "models/split-model.h"
#include "sim/churn.h"
#include "sim/link-trace.h"
#include "sim/schedule.h"
#include "sim/sides.h"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <limits>
#include <set>

namespace slsim
{

constexpr double INF = std::numeric_limits<double>::infinity();

const Range RATE_MBPS{1e-6, 1e13};
const Range DELAY_MS{0, 1e12};
const Range TIME_S{0, 1e9};
const Range SPEED_GFLOPS{1e-3, 1e9};

namespace
{

constexpr int64_t MANY = 1000000;      // rounds, epochs, steps
constexpr int64_t SAMPLES = 100000000; // dataset subsets
constexpr int64_t INT_MAX64 = std::numeric_limits<int>::max();
/// LTE: UEs one ns-3 cell takes (CheckLteDevices), and the most a run should have: measured in
/// scenarios/README.md ("LTE access"), above it validation warns.
constexpr size_t LTE_MAX_UES_PER_CELL = 319;
constexpr size_t LTE_AFFORDABLE_UES = 100;

/// A row whose reading or writing is its own (the rest of the row as for a plain field).
template <class S>
Field<S>
CustomField(std::string key, std::string type, Json schema, std::string doc)
{
    Field<S> f;
    f.key = std::move(key);
    f.type = std::move(type);
    f.schema = std::move(schema);
    f.doc = std::move(doc);
    return f;
}

// ---- dataset -----------------------------------------------------------------------------

const Table<DatasetConfig>&
SyntheticTable()
{
    static const Table<DatasetConfig> table = [] {
        Table<DatasetConfig> t;
        t.doc = "Only for `dataset.name` synthetic: Gaussian class clusters.";
        t.fields.push_back(IntegerField("train", &DatasetConfig::syntheticTrain, 1, 10000000, "",
                                        "training samples"));
        t.fields.push_back(
            IntegerField("test", &DatasetConfig::syntheticTest, 1, 10000000, "", "test samples"));
        t.fields.push_back(
            IntegerField("classes", &DatasetConfig::syntheticClasses, 2, 256, "", "classes"));
        auto shape = CustomField<DatasetConfig>(
            "shape", "array of integers",
            {{"type", "array"},
             {"items", {{"type", "integer"}, {"minimum", 1}, {"maximum", 1 << 16}}},
             {"minItems", 1},
             {"maxItems", 3}},
            "C, H, W of one sample ([64] = 1x1x64)");
        shape.range = "1 to 3 dims, each 1..65536";
        shape.read = [](const Json& v, const std::string& path, DatasetConfig& d, ReadContext&) {
            if (!v.is_array())
            {
                Fail(path, "must be an array of integers, got " + Describe(v));
            }
            std::vector<int64_t> dims;
            for (size_t i = 0; i < v.size(); ++i)
            {
                dims.push_back(ReadInteger(v[i], IndexPath(path, i), 1, 1 << 16));
            }
            if (dims.empty() || dims.size() > 3)
            {
                Fail(path, "must have 1 to 3 dimensions (C, H, W)");
            }
            while (dims.size() < 3)
            {
                dims.insert(dims.begin(), 1); // [64] -> 1x1x64: the datasets are CHW
            }
            d.syntheticShape = Shape(dims);
        };
        shape.write = [](const DatasetConfig& d) { return Json(d.syntheticShape.dims); };
        t.fields.push_back(shape);
        return t;
    }();
    return table;
}

int
Channels(const DatasetConfig& d)
{
    return d.name == "synthetic" ? static_cast<int>(d.syntheticShape.dims[0])
           : d.name == "cifar10" ? 3
                                 : 1;
}

const Table<DatasetConfig>&
DatasetTable()
{
    static const Table<DatasetConfig> table = [] {
        Table<DatasetConfig> t;
        t.fields.push_back(ChoiceField("name", &DatasetConfig::name, KnownDatasets(), "dataset"));
        t.fields.push_back(
            StringField("path", &DatasetConfig::path,
                        "folder with the files, relative to the working directory; \"\": "
                        "$SLSIM_DATA_DIR/<name>, else data/<name> here or in slsim's repository"));
        t.fields.push_back(NumberListField("mean", &DatasetConfig::mean, Range{},
                                           "per-channel mean on the [0,1] scale"));
        t.fields.back().defaultText = "the dataset's";
        t.fields.push_back(
            NumberListField("std", &DatasetConfig::std, Range{0, INF, true},
                            "per-channel std on the [0,1] scale; give both or neither"));
        t.fields.back().defaultText = "the dataset's";
        t.fields.push_back(BoolField("augment", &DatasetConfig::augment,
                                     "random crop (pad 4) + horizontal flip, training only"));
        t.fields.push_back(IntegerField("train_subset", &DatasetConfig::trainSubset, 0, SAMPLES, "",
                                        "keep this many training samples (0 = all)"));
        t.fields.push_back(IntegerField("test_subset", &DatasetConfig::testSubset, 0, SAMPLES, "",
                                        "keep this many test samples (0 = all)"));
        t.fields.push_back(BoolField("subset_random", &DatasetConfig::subsetRandom,
                                     "a seeded sample of N instead of the first N"));
        auto synthetic = GroupField("synthetic", SyntheticTable(), "the synthetic set");
        synthetic.notFor = [](const DatasetConfig& d) {
            return d.name == "synthetic"
                       ? std::string()
                       : "only for dataset.name \"synthetic\", not \"" + d.name + "\"";
        };
        t.fields.push_back(synthetic);
        t.finish = [](DatasetConfig& d, const std::string& path, const ReadContext& ctx) {
            const int channels = Channels(d);
            const bool hasMean = ctx.given.count(JoinPath(path, "mean")) > 0;
            const bool hasStd = ctx.given.count(JoinPath(path, "std")) > 0;
            for (const char* key : {"mean", "std"})
            {
                const auto& v = std::string(key) == "mean" ? d.mean : d.std;
                if ((key[0] == 'm' ? hasMean : hasStd) && v.size() != static_cast<size_t>(channels))
                {
                    Fail(JoinPath(path, key), "must have one value per channel ("
                                                  + std::to_string(channels) + "), got "
                                                  + std::to_string(v.size()));
                }
            }
            if (d.mean.empty() != d.std.empty())
            {
                Fail(JoinPath(path, d.mean.empty() ? "mean" : "std"),
                     "give both mean and std, or neither");
            }
            if (d.mean.empty())
            {
                StandardNormalisation(d.name, channels, d.mean, d.std);
            }
        };
        return t;
    }();
    return table;
}

const char*
PartitionKindName(PartitionKind k)
{
    switch (k)
    {
    case PartitionKind::IID:
        return "iid";
    case PartitionKind::DIRICHLET:
        return "dirichlet";
    case PartitionKind::SHARDS:
        return "shards";
    }
    return "iid";
}

const Table<PartitionConfig>&
PartitionTable()
{
    static const Table<PartitionConfig> table = [] {
        Table<PartitionConfig> t;
        const std::vector<std::string> kinds{"iid", "dirichlet", "shards"};
        auto kind
            = CustomField<PartitionConfig>("kind", "string", {{"type", "string"}, {"enum", kinds}},
                                           "how the training set is dealt to the devices");
        kind.range = ChoiceList(kinds);
        kind.read
            = [kinds](const Json& v, const std::string& path, PartitionConfig& p, ReadContext&) {
                  p.kind = ParsePartitionKind(ReadChoice(v, path, kinds));
              };
        kind.write = [](const PartitionConfig& p) { return Json(PartitionKindName(p.kind)); };
        t.fields.push_back(kind);
        t.fields.push_back(NumberField("alpha", &PartitionConfig::alpha, Range{0, INF, true}, "",
                                       "dirichlet concentration (smaller = more skewed)"));
        t.fields.push_back(IntegerField("shards_per_device", &PartitionConfig::shardsPerDevice, 1,
                                        100000, "",
                                        "shards: label-sorted shards dealt per device"));
        return t;
    }();
    return table;
}

// ---- model, training, optimizer ------------------------------------------------------------

/// A layer key that applies to some layer types only.
template <class F>
F
LayerKey(F f)
{
    const std::string key = f.key;
    f.notFor = [key](const LayerSpec& s) {
        return LayerKeyApplies(s.type, key) ? std::string()
                                            : "not a key of layer type \"" + s.type + "\"";
    };
    return f;
}

/// An optional shape check (in_channels, ...): 0 = not checked, not written.
Field<LayerSpec>
InCheckKey(std::string key, int LayerSpec::*m, std::string doc)
{
    auto f = LayerKey(IntegerField(std::move(key), m, 1, INT_MAX64, "", std::move(doc)));
    f.defaultText = "not checked";
    f.omit = [m](const LayerSpec& s) { return s.*m == 0; };
    return f;
}

/// A size a layer type needs (out_channels, ...).
Field<LayerSpec>
RequiredKey(std::string key, int LayerSpec::*m, std::string doc)
{
    auto f = LayerKey(IntegerField(std::move(key), m, 1, INT_MAX64, "", std::move(doc)));
    f.defaultText = "required";
    return f;
}

const Table<LayerSpec>&
LayerTable()
{
    static const Table<LayerSpec> table = [] {
        Table<LayerSpec> t;
        t.doc = "Each entry of `model.layers` (models/model-spec.h; PyTorch's parameter names).";
        auto type = ChoiceField("type", &LayerSpec::type, LayerTypes(), "layer type");
        type.required = true;
        type.missing = "missing (one of " + ChoiceList(LayerTypes()) + ")";
        type.defaultText = "required";
        t.fields.push_back(type);
        auto name = StringField("name", &LayerSpec::name,
                                "module path in checkpoints and a cut point (unnamed layers with "
                                "parameters are named by their index, as in nn.Sequential)");
        name.omit = [](const LayerSpec& s) { return s.name.empty(); };
        name.defaultText = "index";
        t.fields.push_back(name);
        t.fields.push_back(RequiredKey("out_channels", &LayerSpec::outChannels, "conv"));
        t.fields.push_back(RequiredKey("out_features", &LayerSpec::outFeatures, "linear"));
        t.fields.push_back(RequiredKey("planes", &LayerSpec::planes,
                                       "residual: output channels of the ResNet basic block"));
        t.fields.push_back(
            RequiredKey("kernel_size", &LayerSpec::kernelSize, "conv, max_pool, avg_pool"));
        auto stride = LayerKey(IntegerField("stride", &LayerSpec::stride, 1, INT_MAX64, "",
                                            "conv, residual, max_pool, avg_pool"));
        stride.defaultText = "1; pools: kernel_size (PyTorch)";
        t.fields.push_back(stride);
        t.fields.push_back(LayerKey(
            IntegerField("padding", &LayerSpec::padding, 0, INT_MAX64, "", "conv: zero padding")));
        t.fields.push_back(LayerKey(BoolField("bias", &LayerSpec::bias, "conv, linear")));
        t.fields.push_back(LayerKey(NumberField("p", &LayerSpec::p, Range{0, 1, false, true}, "",
                                                "dropout: probability of zeroing a value")));
        t.fields.push_back(LayerKey(
            BoolField("plain", &LayerSpec::plain,
                      "residual: the paper's plain block (conv-BN-conv-BN-ReLU, no skip)")));
        t.fields.push_back(InCheckKey("in_channels", &LayerSpec::inChannels,
                                      "conv, residual: checked against the input"));
        t.fields.push_back(
            InCheckKey("in_features", &LayerSpec::inFeatures, "linear: checked against the input"));
        t.fields.push_back(InCheckKey("num_features", &LayerSpec::numFeatures,
                                      "batch_norm: checked against the input's channels"));
        t.finish = [](LayerSpec& s, const std::string& path, const ReadContext&) {
            ResolveLayerSpec(s, path);
        };
        return t;
    }();
    return table;
}

const Table<ModelConfig>&
ModelTable()
{
    static const Table<ModelConfig> table = [] {
        Table<ModelConfig> t;
        const std::vector<std::string> models{"mlp",      "lenet5",   "vgg11_bn",
                                              "vgg19_bn", "resnet18", "custom"};
        auto name = StringField("name", &ModelConfig::name, "architecture (custom: model.layers)");
        name.range = ChoiceList(models);
        name.schema["enum"] = models;
        name.read = [](const Json& v, const std::string& path, ModelConfig& m, ReadContext&) {
            m.name = AsString(v, path);
            try
            {
                CutNames(m.name);
            }
            catch (const InputError&)
            {
                Fail(path, "unknown model \"" + m.name + "\"");
            }
        };
        t.fields.push_back(name);
        auto layers = ArrayField("layers", &ModelConfig::layers, LayerTable(),
                                 "the layers of a custom model, input to logits (the input shape "
                                 "and classes come from the dataset)");
        const auto readLayers = layers.read;
        layers.read = [readLayers](const Json& v, const std::string& path, ModelConfig& m,
                                   ReadContext& ctx) {
            const std::string namePath = path.substr(0, path.rfind('.')) + ".name";
            if (ctx.given.count(namePath) && m.name != "custom")
            {
                Fail(path, "only for model \"custom\", not \"" + m.name + "\"");
            }
            m.name = "custom";
            readLayers(v, path, m, ctx);
            if (m.layers.empty())
            {
                Fail(path, "must hold at least one layer");
            }
        };
        layers.notFor = [](const ModelConfig& m) {
            return m.name == "mlp" || m.name == "custom" ? std::string() : "only for model custom";
        };
        layers.omit = [](const ModelConfig& m) { return m.name != "custom"; };
        t.fields.push_back(layers);
        auto width = NumberField("width", &ModelConfig::width, Range{0, 64, true}, "",
                                 "channel/width multiplier (presets)");
        width.notFor = [](const ModelConfig& m) {
            return m.name == "custom" ? "not with model.layers (give the sizes there)"
                                      : std::string();
        };
        t.fields.push_back(width);
        auto cut = CustomField<ModelConfig>(
            "cut", "string or integer", {{"type", Json::array({"string", "integer"})}},
            "where the model is split: a named cut, a layer index or a layer's name (the device "
            "part ends after it)");
        cut.range = "shallow, medium, deep, 1..L-1 or a layer name";
        cut.read = [](const Json& v, const std::string& path, ModelConfig& m, ReadContext&) {
            m.cut = v.is_number() ? std::to_string(AsInteger(v, path)) : AsString(v, path);
        };
        cut.write = [](const ModelConfig& m) { return Json(m.cut); };
        t.fields.push_back(cut);
        auto headCut = CustomField<ModelConfig>(
            "head_cut", "string or integer", {{"type", Json::array({"string", "integer"})}},
            "U-shaped split learning (labels stay on the device): where the server part ends and "
            "the device's head (the last layers and the loss) begins, given as model.cut; the "
            "head's two messages use codec.head_downlink / codec.head_uplink");
        headCut.range = "after the cut, before the last layer";
        headCut.defaultText = "none (the server holds the rest)";
        headCut.read = [](const Json& v, const std::string& path, ModelConfig& m, ReadContext&) {
            m.headCut = v.is_number() ? std::to_string(AsInteger(v, path)) : AsString(v, path);
            if (m.headCut.empty())
            {
                Fail(path, "must name a layer (omit the key for a split without a head)");
            }
        };
        headCut.write = [](const ModelConfig& m) { return Json(m.headCut); };
        headCut.omit = [](const ModelConfig& m) { return m.headCut.empty(); };
        t.fields.push_back(headCut);
        auto hidden
            = IntegerListField("hidden", &ModelConfig::hidden, 1, 1 << 20, "hidden layer sizes");
        hidden.notFor = [](const ModelConfig& m) {
            return m.name == "mlp" ? std::string()
                                   : "only for model \"mlp\", not \"" + m.name + "\"";
        };
        t.fields.push_back(hidden);
        auto init = StringField("init_from", &ModelConfig::initFrom,
                                "a safetensors checkpoint (PyTorch state_dict names) to start "
                                "from instead of the seeded init; relative to the scenario file");
        init.read = [](const Json& v, const std::string& path, ModelConfig& m, ReadContext& ctx) {
            std::string file = AsString(v, path);
            if (file.empty())
            {
                Fail(path, "must be a file name");
            }
            m.initFrom = file[0] != '/' && !ctx.baseDir.empty() ? ctx.baseDir + "/" + file : file;
        };
        init.omit = [](const ModelConfig& m) { return m.initFrom.empty(); };
        t.fields.push_back(init);
        t.fields.push_back(IntegerField(
            "threads", &ModelConfig::threads, 0, 1024, "",
            "compute threads (results are identical for any count); 0 = the CPUs this "
            "process may use divided by SLSIM_CONCURRENT_RUNS (slsim sweep -j N sets N)"));
        t.finish = [](ModelConfig& m, const std::string& path, const ReadContext&) {
            if (m.name == "custom" && m.layers.empty())
            {
                Fail(JoinPath(path, "layers"), "required for model \"custom\"");
            }
        };
        return t;
    }();
    return table;
}

const Table<TrainingConfig>&
TrainingTable()
{
    static const Table<TrainingConfig> table = [] {
        Table<TrainingConfig> t;
        t.fields.push_back(IntegerField("batch_size", &TrainingConfig::batchSize, 1, 1 << 16, "",
                                        "samples per step"));
        t.fields.push_back(
            IntegerField("epochs", &TrainingConfig::epochs, 1, MANY, "",
                         "rounds: every device passes once over its shard per round"));
        t.fields.push_back(NumberField(
            "time_budget_s", &TrainingConfig::timeBudgetS, TIME_S, "s",
            "> 0: stop at this simulated time (after the running step); alone, epochs unbounded"));
        t.fields.push_back(IntegerField("eval_every_rounds", &TrainingConfig::evalEveryRounds, 1,
                                        MANY, "",
                                        "test evaluation every this many rounds and at the end"));
        t.fields.push_back(IntegerField(
            "eval_every_steps", &TrainingConfig::evalEverySteps, 0, MANY, "",
            "> 0: also evaluate at the first phase end at or after each multiple of this many "
            "device steps (all devices; see below)"));
        t.fields.push_back(NumberField(
            "eval_every_s", &TrainingConfig::evalEveryS, TIME_S, "s",
            "> 0: also evaluate at the first phase end at or after each multiple of this "
            "simulated time (not with replay)"));
        t.fields.push_back(BoolField("eval_at_start", &TrainingConfig::evalAtStart,
                                     "evaluate the initial weights at t=0 (the curve's first "
                                     "point, at chance)"));
        t.fields.push_back(
            BoolField("compress_eval", &TrainingConfig::compressEval,
                      "evaluation passes the cut activations through the uplink codec"));
        t.fields.push_back(NumberField("target_accuracy", &TrainingConfig::targetAccuracy,
                                       Range{0, 1}, "",
                                       "> 0: the summary reports time and bytes to reach it"));
        t.fields.push_back(IntegerField("eval_batch", &TrainingConfig::evalBatch, 1, 1 << 16, "",
                                        "samples per evaluation batch"));
        t.fields.push_back(IntegerField(
            "leakage_samples", &TrainingConfig::leakageSamples, 0, 4096, "",
            "> 0: eval.csv's cut_dcor_sq, the distance correlation between the input and the "
            "cut activations as sent, on the first this many test samples (0: off; per-device "
            "cuts: at every cut in leakage.csv)"));
        t.fields.push_back(IntegerField(
            "save_every_rounds", &TrainingConfig::saveEveryRounds, 0, MANY, "",
            "> 0: checkpoints (safetensors, PyTorch state_dict names) every this many rounds "
            "and at the end, in the run folder's checkpoints/"));
        auto replay
            = StringField("replay", &TrainingConfig::replay,
                          "a finished run's folder: re-simulate the network only (see below)");
        replay.omit = [](const TrainingConfig& tc) { return tc.replay.empty(); };
        t.fields.push_back(replay);
        t.finish = [](TrainingConfig& tc, const std::string& path, const ReadContext& ctx) {
            if (tc.leakageSamples > 0 && tc.leakageSamples < 4)
            {
                Fail(JoinPath(path, "leakage_samples"),
                     "must be 0 (off) or at least 4 (the estimator divides by n - 3)");
            }
            if (tc.saveEveryRounds > 0 && !tc.replay.empty())
            {
                Fail(JoinPath(path, "save_every_rounds"),
                     "a replay computes no model: nothing to save");
            }
            if (tc.timeBudgetS > 0 && !ctx.given.count(JoinPath(path, "epochs")))
            {
                tc.epochs = MANY; // a time budget alone: train until the budget runs out
            }
        };
        return t;
    }();
    return table;
}

std::function<std::string(const OptimizerConfig&)>
OnlyForAdam()
{
    return [](const OptimizerConfig& o) {
        return o.name == "adam" ? std::string() : "only for optimizer \"adam\"";
    };
}

const Table<OptimizerConfig>&
OptimizerTable()
{
    static const Table<OptimizerConfig> table = [] {
        Table<OptimizerConfig> t;
        t.fields.push_back(
            ChoiceField("name", &OptimizerConfig::name, {"sgd", "adam"}, "optimizer"));
        t.fields.push_back(
            NumberField("lr", &OptimizerConfig::lr, Range{0, 100, true}, "", "learning rate"));
        t.fields.push_back(NumberField("momentum", &OptimizerConfig::momentum,
                                       Range{0, 1, false, true}, "", "sgd momentum"));
        t.fields.push_back(NumberField("weight_decay", &OptimizerConfig::weightDecay, Range{0, 1},
                                       "", "L2 weight decay"));
        t.fields.push_back(BoolField("nesterov", &OptimizerConfig::nesterov,
                                     "Nesterov momentum (sgd with momentum > 0 only)"));
        t.fields.push_back(NumberField("beta1", &OptimizerConfig::beta1, Range{0, 1, false, true},
                                       "", "adam only: first-moment decay"));
        t.fields.back().notFor = OnlyForAdam();
        t.fields.push_back(NumberField("beta2", &OptimizerConfig::beta2, Range{0, 1, false, true},
                                       "", "adam only: second-moment decay"));
        t.fields.back().notFor = OnlyForAdam();
        t.fields.push_back(NumberField("eps", &OptimizerConfig::eps, Range{0, 1, true}, "",
                                       "adam only: denominator term"));
        t.fields.back().notFor = OnlyForAdam();
        t.fields.push_back(ChoiceField("schedule", &OptimizerConfig::schedule,
                                       {"constant", "step", "multistep", "cosine"},
                                       "learning-rate schedule, stepped once per round"));
        t.fields.push_back(IntegerField("step_epochs", &OptimizerConfig::stepEpochs, 1, MANY, "",
                                        "step: multiply by gamma every this many rounds"));
        auto milestones
            = IntegerListField("milestones", &OptimizerConfig::milestones, 1, MANY,
                               "multistep only: rounds where lr is multiplied by gamma");
        milestones.notFor = [](const OptimizerConfig& o) {
            return o.schedule == "multistep" ? std::string() : "only for schedule \"multistep\"";
        };
        t.fields.push_back(milestones);
        t.fields.push_back(NumberField("gamma", &OptimizerConfig::gamma, Range{0, 1, true}, "",
                                       "step and multistep: factor"));
        t.fields.push_back(IntegerField("total_epochs", &OptimizerConfig::totalEpochs, 1, MANY, "",
                                        "cosine: horizon T_max in rounds"));
        t.fields.back().defaultText = "training.epochs";
        t.finish = [](OptimizerConfig& o, const std::string& path, const ReadContext& ctx) {
            if (o.schedule == "multistep" && !ctx.given.count(JoinPath(path, "milestones")))
            {
                Fail(JoinPath(path, "milestones"),
                     "missing (schedule \"multistep\" needs milestones)");
            }
            for (size_t i = 1; i < o.milestones.size(); ++i)
            {
                if (o.milestones[i] <= o.milestones[i - 1])
                {
                    Fail(IndexPath(JoinPath(path, "milestones"), i), "milestones must increase");
                }
            }
            if (o.nesterov && (o.name != "sgd" || o.momentum <= 0))
            {
                Fail(JoinPath(path, "nesterov"), "needs optimizer \"sgd\" with momentum > 0");
            }
        };
        return t;
    }();
    return table;
}

// ---- codecs ------------------------------------------------------------------------------

const Table<CodecConfig>&
CodecTable()
{
    static const Table<CodecConfig> table = [] {
        Table<CodecConfig> t;
        t.doc
            = "Ranges and combinations per method are the codec registry's (compression/codec.h).";
        auto method = StringField("method", &CodecConfig::method, "codec");
        method.range = ChoiceList(CodecNames());
        method.schema["enum"] = CodecNames();
        t.fields.push_back(method);
        t.fields.push_back(NumberField("sparsity", &CodecConfig::sparsity, Range{0, 1, false, true},
                                       "", "topk, randtopk, ms: fraction not sent as values"));
        t.fields.push_back(IntegerField("bits", &CodecConfig::bits, -1000, 1000, "",
                                        "ms: 1..8 code bits; quantize: 1..16"));
        t.fields.back().range = "per method";
        t.fields.back().schema = {{"type", "integer"}};
        t.fields.push_back(ChoiceField("index", &CodecConfig::index, {"auto", "bitmap", "u32"},
                                       "topk, randtopk: index coding"));
        t.fields.push_back(NumberField("randtopk_a", &CodecConfig::randtopkA, Range{-INF, INF}, "",
                                       "randtopk: share of the kept values drawn at random"));
        t.fields.back().range = "[0, 1]";
        t.fields.push_back(BoolField("floor", &CodecConfig::floorCodes,
                                     "ms: Algorithm 1's floor instead of round-half-even + clamp"));
        t.fields.push_back(BoolField("signed", &CodecConfig::signedValues,
                                     "ms: sign bit + top-k on abs(x) (cuts without ReLU)"));
        t.fields.push_back(BoolField("stochastic", &CodecConfig::stochastic,
                                     "quantize: unbiased stochastic rounding"));
        t.fields.push_back(NumberField("budget_bits_per_element",
                                       &CodecConfig::budgetBitsPerElement, Range{0, 64}, "bits",
                                       "> 0: the codec picks its sparsity or bits to meet it"));
        t.finish = [](CodecConfig& k, const std::string& path, const ReadContext&) {
            // Ranges and combinations are the codec module's to judge; its messages start with
            // the field name relative to the codec object.
            try
            {
                ValidateCodecConfig(k);
                ResolveBudget(k);
            }
            catch (const InputError& e)
            {
                throw InputError(path + "." + e.what());
            }
        };
        return t;
    }();
    return table;
}

const Table<ScenarioConfig>&
CodecGroupTable()
{
    static const Table<ScenarioConfig> table = [] {
        Table<ScenarioConfig> t;
        t.fields.push_back(ObjectField("uplink", &ScenarioConfig::uplink, CodecTable(),
                                       "cut activations, device -> server"));
        t.fields.push_back(ObjectField("downlink", &ScenarioConfig::downlink, CodecTable(),
                                       "their gradients, server -> device"));
        t.fields.push_back(ObjectField("sync", &ScenarioConfig::sync, CodecTable(),
                                       "device-side weights (hand-off and averaging)"));
        // U-shaped split learning's second cut (model.head_cut).
        const auto uOnly = [](const ScenarioConfig& c) {
            return c.model.headCut.empty() ? "only with model.head_cut (U-shaped)" : std::string();
        };
        t.fields.push_back(ObjectField("head_downlink", &ScenarioConfig::headDownlink, CodecTable(),
                                       "U-shaped: the server part's output, server -> device"));
        t.fields.back().notFor = uOnly;
        t.fields.push_back(ObjectField("head_uplink", &ScenarioConfig::headUplink, CodecTable(),
                                       "U-shaped: its gradient, device -> server"));
        t.fields.back().notFor = uOnly;
        for (auto& f : t.fields)
        {
            f.nested = nullptr; // one table for the three, below
        }
        return t;
    }();
    return table;
}

// ---- network, schedule, faults ------------------------------------------------------------

const std::vector<std::string>&
TcpVariants()
{
    // ns-3.37's TcpCongestionOps subclasses (ns3::Tcp<name>).
    static const std::vector<std::string> v{
        "NewReno",   "LinuxReno", "Cubic", "Bbr",      "Bic",    "Dctcp",
        "HighSpeed", "Htcp",      "Hybla", "Illinois", "Ledbat", "Lp",
        "Scalable",  "Vegas",     "Veno",  "Westwood", "Yeah"};
    return v;
}

const Table<TcpConfig>&
TcpTable()
{
    static const Table<TcpConfig> table = [] {
        Table<TcpConfig> t;
        // First: the profile sets every other key's default; the explicit keys read after it
        // override it.
        auto profile = ChoiceField("profile", &TcpConfig::profile, {"linux", "legacy"},
                                   "defaults of every other tcp key: linux (a Linux 5.x/6.x end "
                                   "host) or legacy (slsim 0.1: NewReno, 1 s min RTO, 200 ms "
                                   "delayed ACK, 100-packet queues)");
        profile.read = [](const Json& v, const std::string& path, TcpConfig& tcp, ReadContext&) {
            tcp = TcpProfile(ReadChoice(v, path, {"linux", "legacy"}));
        };
        t.fields.push_back(profile);
        t.fields.push_back(ChoiceField("variant", &TcpConfig::variant, TcpVariants(),
                                       "congestion control, ns3::Tcp<variant> (legacy: NewReno; "
                                       "Cubic is Linux's default since 2.6.19)"));
        t.fields.push_back(IntegerField("segment_bytes", &TcpConfig::segmentBytes, 64, 65000,
                                        "bytes", "TCP segment size (ns-3's default is 536)"));
        t.fields.push_back(IntegerField("send_buffer_bytes", &TcpConfig::sendBufferBytes, 1024,
                                        1 << 30, "bytes", "socket send buffer, >= segment_bytes"));
        t.fields.push_back(IntegerField("receive_buffer_bytes", &TcpConfig::receiveBufferBytes,
                                        1024, 1 << 30, "bytes",
                                        "socket receive buffer, >= segment_bytes"));
        t.fields.push_back(IntegerField("queue_packets", &TcpConfig::queuePackets, 0, MANY,
                                        "packets",
                                        "point-to-point device queue (DropTail); 0 = sized from "
                                        "the bandwidth-delay product (legacy: 100)"));
        t.fields.push_back(IntegerField("queue_bytes", &TcpConfig::queueBytes, 0, 1 << 30, "bytes",
                                        "device queue limit in bytes instead (0: off)"));
        t.fields.push_back(NumberField("queue_bdp_factor", &TcpConfig::queueBdpFactor,
                                       Range{0, 100, true, false}, "",
                                       "BDP-sized queues hold this many bandwidth-delay products"));
        t.fields.push_back(
            BoolField("queue_disc", &TcpConfig::queueDisc, "legacy switch: true = aqm fq_codel"));
        t.fields.push_back(ChoiceField("aqm", &TcpConfig::aqm, {"none", "fq_codel", "codel", "pie"},
                                       "queue disc above each device queue (RFC 8290, 8289, "
                                       "8033)"));
        t.fields.push_back(IntegerField("delayed_ack_count", &TcpConfig::delayedAckCount, 1, 64, "",
                                        "segments per delayed ACK (RFC 1122, RFC 5681)"));
        t.fields.push_back(NumberField("delayed_ack_timeout_ms", &TcpConfig::delayedAckTimeoutMs,
                                       Range{0, 10000, true, false}, "ms",
                                       "delayed-ACK timer: Linux's TCP_DELACK_MIN (legacy: 200, "
                                       "ns-3's default)"));
        t.fields.push_back(BoolField("sack", &TcpConfig::sack, "selective ACKs (RFC 2018)"));
        t.fields.push_back(
            BoolField("window_scaling", &TcpConfig::windowScaling, "window scaling (RFC 7323)"));
        t.fields.push_back(
            BoolField("timestamps", &TcpConfig::timestamps, "timestamps option (RFC 7323)"));
        t.fields.push_back(NumberField("min_rto_ms", &TcpConfig::minRtoMs,
                                       Range{0, 60000, true, false}, "ms",
                                       "minimum retransmission timeout: Linux's TCP_RTO_MIN "
                                       "(legacy: 1000, RFC 6298's and ns-3's)"));
        t.fields.push_back(NumberField("clock_granularity_ms", &TcpConfig::clockGranularityMs,
                                       Range{0, 1000, true, false}, "ms",
                                       "RTO clock granularity G (RFC 6298)"));
        t.fields.push_back(IntegerField("initial_cwnd_segments", &TcpConfig::initialCwndSegments, 1,
                                        1000, "segments", "initial window (RFC 6928)"));
        t.fields.push_back(
            BoolField("ecn", &TcpConfig::ecn,
                      "ECN on every socket (RFC 3168): fq_codel marks instead of "
                      "dropping; off as Linux's tcp_ecn=2 for connections it opens"));
        t.fields.push_back(IntegerField("tsq_limit_bytes", &TcpConfig::tsqLimitBytes, 0, 1 << 30,
                                        "bytes",
                                        "TCP small queues: most a socket keeps in its host's "
                                        "queues, Linux's tcp_limit_output_bytes (0: off, legacy)"));
        t.finish = [](TcpConfig& tcp, const std::string& path, const ReadContext&) {
            if (tcp.queueDisc && tcp.aqm != "none" && tcp.aqm != "fq_codel")
            {
                Fail(JoinPath(path, "queue_disc"), "true means aqm \"fq_codel\"; got aqm \""
                                                       + tcp.aqm + "\" too (drop queue_disc)");
            }
            for (const char* key : {"send_buffer_bytes", "receive_buffer_bytes"})
            {
                const uint32_t v = std::string(key) == "send_buffer_bytes" ? tcp.sendBufferBytes
                                                                           : tcp.receiveBufferBytes;
                if (v < tcp.segmentBytes)
                {
                    Fail(JoinPath(path, key), "must be >= segment_bytes ("
                                                  + std::to_string(tcp.segmentBytes) + "), got "
                                                  + std::to_string(v));
                }
            }
        };
        return t;
    }();
    return table;
}

const Table<LinkTraceConfig>&
LinkTraceTable()
{
    static const Table<LinkTraceConfig> table = [] {
        Table<LinkTraceConfig> t;
        t.fields.push_back(IntegerField("device", &LinkTraceConfig::device, -1, INT_MAX64, "",
                                        "the device whose access link it drives; -1: every one"));
        t.fields.push_back(ChoiceField("direction", &LinkTraceConfig::direction,
                                       {"uplink", "downlink", "both"},
                                       "which way of the access link it drives"));
        t.fields.push_back(StringField(
            "file", &LinkTraceConfig::file,
            "the trace, relative to the scenario file (csv: time_s,mbps rows; mahimahi: one ms "
            "timestamp per 1500-byte delivery opportunity)"));
        t.fields.back().required = true;
        t.fields.back().missing = "missing (a trace file)";
        t.fields.push_back(ChoiceField("format", &LinkTraceConfig::format, {"csv", "mahimahi"},
                                       "the file's format (sim/link-trace.h)"));
        t.fields.push_back(NumberField("window_ms", &LinkTraceConfig::windowMs, Range{1, 1e6}, "ms",
                                       "mahimahi: the replayed rate is the mean over windows this "
                                       "long (mm-link delivers per ms; 100 ms keeps events few)"));
        t.finish = [](LinkTraceConfig& lt, const std::string& path, const ReadContext& ctx) {
            if (lt.file.empty())
            {
                Fail(JoinPath(path, "file"), "must be a file name");
            }
            if (lt.file[0] != '/' && !ctx.baseDir.empty())
            {
                lt.file = ctx.baseDir + "/" + lt.file; // the manifest names the file read
            }
            lt.trace = lt.format == "csv" ? ReadCsvRateTrace(lt.file)
                                          : ReadMahimahiTrace(lt.file, lt.windowMs);
        };
        return t;
    }();
    return table;
}

/// The standard's limits (IEEE 802.11-2020): widths and bands, its highest single-stream MCS
/// and A-MPDU length.
struct WifiLimits
{
    uint32_t maxWidthMhz, maxMcs, maxAmpduBytes;
};

WifiLimits
LimitsOf(const std::string& standard)
{
    if (standard == "802.11n")
    {
        return {40, 7, 65535}; // HT: 19.3.5, MCS 0-7 per stream, A-MPDU exponent 3
    }
    if (standard == "802.11ac")
    {
        return {160, 9, 1048575}; // VHT: 21.5, exponent 7
    }
    return {160, 11, 6500631}; // HE: 27.5, exponent 7 + extension 3
}

const Table<WifiConfig>&
WifiTable()
{
    static const Table<WifiConfig> table = [] {
        Table<WifiConfig> t;
        t.doc = "WiFi access of the devices with access \"wifi\" (sim/wifi-access.h); the "
                "defaults with a constant MCS 5 and rts_cts_threshold_bytes 0 give the paper's "
                "testbed, about 100 Mbps for one AP's stations";
        t.fields.push_back(ChoiceField("standard", &WifiConfig::standard,
                                       {"802.11n", "802.11ac", "802.11ax"},
                                       "HT, VHT or HE (ns-3's WIFI_STANDARD_80211n/ac/ax)"));
        t.fields.push_back(NumberField("band_ghz", &WifiConfig::bandGhz, Range{2.4, 6}, "GHz",
                                       "2.4, 5 or 6 (802.11ac: 5; 6: 802.11ax only)"));
        t.fields.push_back(IntegerField("channel_width_mhz", &WifiConfig::channelWidthMhz, 20, 160,
                                        "MHz",
                                        "20, 40, 80 or 160 (802.11n or 2.4 GHz: at most 40)"));
        t.fields.push_back(ChoiceField("rate_manager", &WifiConfig::rateManager,
                                       {"minstrel_ht", "constant"},
                                       "ns3::MinstrelHtWifiManager (Linux mac80211's Minstrel) "
                                       "or ns3::ConstantRateWifiManager at mcs"));
        auto mcs = IntegerField("mcs", &WifiConfig::mcs, 0, 11, "",
                                "constant rate: the MCS, one spatial stream (n: 0-7, ac: 0-9, "
                                "ax: 0-11)");
        mcs.notFor = [](const WifiConfig& w) {
            return w.rateManager == "constant" ? "" : "only for rate_manager \"constant\"";
        };
        t.fields.push_back(mcs);
        t.fields.push_back(BoolField("short_guard_interval", &WifiConfig::shortGuardInterval,
                                     "400 ns guard interval (HT/VHT; HE: 800 ns), else 800 ns "
                                     "(HE: 3200 ns)"));
        t.fields.push_back(IntegerField("max_ampdu_bytes", &WifiConfig::maxAmpduBytes, 0, 6500631,
                                        "bytes",
                                        "A-MPDU limit, 0 = no aggregation (n: <= 65535, ac: <= "
                                        "1048575; 65535 is ns-3's default)"));
        t.fields.push_back(IntegerField("rts_cts_threshold_bytes",
                                        &WifiConfig::rtsCtsThresholdBytes, 0, 65535, "bytes",
                                        "RTS/CTS before PSDUs above this size (0: every one; "
                                        "65535, ns-3's default: off here)"));
        t.fields.push_back(IntegerField("ap_count", &WifiConfig::apCount, 1, WIFI_MAX_APS, "",
                                        "access points, each a BSS on a channel of its own"));
        t.fields.push_back(ChoiceField("assignment", &WifiConfig::assignment,
                                       {"round_robin", "block"},
                                       "WiFi devices to APs in device order: k-th to AP k mod "
                                       "ap_count, or consecutive blocks"));
        t.fields.push_back(NumberField("ap_link_mbps", &WifiConfig::apLinkMbps, RATE_MBPS, "Mbps",
                                       "each AP's wired link to the hub (Gigabit Ethernet)"));
        t.fields.push_back(NumberField("ap_link_delay_ms", &WifiConfig::apLinkDelayMs, DELAY_MS,
                                       "ms", "its one-way delay (100 m of cable)"));
        t.fields.push_back(NumberField("loss_exponent", &WifiConfig::lossExponent,
                                       Range{0, 10, true, false}, "",
                                       "log-distance path loss exponent (ns-3's default)"));
        t.fields.push_back(NumberField("reference_loss_db", &WifiConfig::referenceLossDb,
                                       Range{0, 200}, "dB",
                                       "path loss at 1 m (ns-3's default: Friis at 5.15 GHz)"));
        t.fields.push_back(NumberField("tx_power_dbm", &WifiConfig::txPowerDbm, Range{-20, 40},
                                       "dBm",
                                       "transmit power of APs and stations (ns-3's "
                                       "default, 40 mW)"));
        t.finish = [](WifiConfig& w, const std::string& path, const ReadContext&) {
            const WifiLimits lim = LimitsOf(w.standard);
            const std::string std = " for " + w.standard;
            if (w.bandGhz != 2.4 && w.bandGhz != 5 && w.bandGhz != 6)
            {
                Fail(JoinPath(path, "band_ghz"),
                     "must be 2.4, 5 or 6, got " + NumberText(w.bandGhz));
            }
            if ((w.standard == "802.11ac" && w.bandGhz != 5)
                || (w.bandGhz == 6 && w.standard != "802.11ax"))
            {
                Fail(JoinPath(path, "band_ghz"), NumberText(w.bandGhz) + " GHz is not a band" + std
                                                     + " (802.11ac: 5 GHz; 6 GHz: 802.11ax)");
            }
            const uint32_t width = w.channelWidthMhz;
            if (width != 20 && width != 40 && width != 80 && width != 160)
            {
                Fail(JoinPath(path, "channel_width_mhz"),
                     "must be 20, 40, 80 or 160, got " + std::to_string(width));
            }
            const uint32_t maxWidth = w.bandGhz == 2.4 ? 40 : lim.maxWidthMhz;
            if (width > maxWidth)
            {
                Fail(JoinPath(path, "channel_width_mhz"),
                     "at most " + std::to_string(maxWidth) + std + " at " + NumberText(w.bandGhz)
                         + " GHz, got " + std::to_string(width));
            }
            if (w.rateManager == "constant")
            {
                if (w.mcs > lim.maxMcs)
                {
                    Fail(JoinPath(path, "mcs"), "at most " + std::to_string(lim.maxMcs) + std
                                                    + ", got " + std::to_string(w.mcs));
                }
                if (w.standard == "802.11ac" && width == 20 && w.mcs == 9)
                {
                    // IEEE 802.11-2020 Table 21-30: VHT-MCS 9 at 20 MHz needs 3 or 6 streams.
                    Fail(JoinPath(path, "mcs"), "VHT MCS 9 is not valid at 20 MHz with one "
                                                "spatial stream");
                }
            }
            if (w.maxAmpduBytes > lim.maxAmpduBytes)
            {
                Fail(JoinPath(path, "max_ampdu_bytes"),
                     "at most " + std::to_string(lim.maxAmpduBytes) + std + ", got "
                         + std::to_string(w.maxAmpduBytes));
            }
        };
        return t;
    }();
    return table;
}

const Table<LteConfig>&
LteTable()
{
    static const Table<LteConfig> table = [] {
        Table<LteConfig> t;
        t.fields.push_back(IntegerField("enb_count", &LteConfig::enbCount, 1, 64, "",
                                        "eNodeBs; the i-th LTE device attaches to eNodeB i mod "
                                        "enb_count (each with its own S1-U link to the SGW)"));
        auto rbs
            = IntegerField("bandwidth_rbs", &LteConfig::bandwidthRbs, 6, 100, "RBs",
                           "uplink and downlink bandwidth in resource blocks: 6, 15, 25, 50, "
                           "75 or 100 (1.4-20 MHz, TS 36.101 Table 5.6-1; 25: ns-3's default)");
        rbs.range = "6, 15, 25, 50, 75, 100";
        rbs.schema["enum"] = {6, 15, 25, 50, 75, 100};
        t.fields.push_back(rbs);
        t.fields.push_back(ChoiceField(
            "scheduler", &LteConfig::scheduler,
            {"Pf", "Rr", "Pss", "Cqa", "FdMt", "TdMt", "Tta", "FdBet", "TdBet", "FdTbfq", "TdTbfq"},
            "MAC scheduler ns3::<name>FfMacScheduler (Pf, proportional fair: ns-3's LteHelper "
            "default)"));
        t.fields.push_back(NumberField("ue_distance_m", &LteConfig::ueDistanceM, Range{1, 1e5}, "m",
                                       "distance of every UE from its eNodeB"));
        t.fields.push_back(ChoiceField("path_loss", &LteConfig::pathLoss, {"friis", "log_distance"},
                                       "propagation loss: friis (ns-3 LteHelper's default) or "
                                       "log_distance (exponent 3, ns-3's default)"));
        t.fields.push_back(NumberField("enb_tx_power_dbm", &LteConfig::enbTxPowerDbm,
                                       Range{-30, 60}, "dBm",
                                       "eNodeB transmit power (ns-3's LteEnbPhy default)"));
        t.fields.push_back(NumberField("ue_tx_power_dbm", &LteConfig::ueTxPowerDbm, Range{-30, 40},
                                       "dBm", "UE transmit power (ns-3's LteUePhy default)"));
        t.fields.push_back(IntegerField(
            "rlc_buffer_bytes", &LteConfig::rlcBufferBytes, 0, 1 << 30, "bytes",
            "RLC transmit buffer per bearer and side (eNodeB, UE); 0: network.tcp's "
            "queue_bdp_factor x the cell's peak rate x the round trip, at least ns-3's 10 KiB"));
        t.fields.push_back(NumberField("pgw_mbps", &LteConfig::pgwMbps, RATE_MBPS, "Mbps",
                                       "PGW <-> hub link rate (ns-3's lena-simple-epc example)"));
        t.fields.push_back(NumberField("pgw_delay_ms", &LteConfig::pgwDelayMs, DELAY_MS, "ms",
                                       "PGW <-> hub one-way delay (lena-simple-epc)"));
        t.finish = [](LteConfig& lte, const std::string& path, const ReadContext&) {
            const std::vector<uint32_t> allowed{6, 15, 25, 50, 75, 100};
            if (std::find(allowed.begin(), allowed.end(), lte.bandwidthRbs) == allowed.end())
            {
                Fail(JoinPath(path, "bandwidth_rbs"),
                     "must be 6, 15, 25, 50, 75 or 100 (TS 36.101 Table 5.6-1), got "
                         + std::to_string(lte.bandwidthRbs));
            }
        };
        return t;
    }();
    return table;
}

const Table<NetworkConfig>&
NetworkTable()
{
    static const Table<NetworkConfig> table = [] {
        Table<NetworkConfig> t;
        t.fields.push_back(NumberField("bottleneck_mbps", &NetworkConfig::bottleneckMbps, RATE_MBPS,
                                       "Mbps", "shared hub <-> server link rate"));
        t.fields.push_back(NumberField("bottleneck_delay_ms", &NetworkConfig::bottleneckDelayMs,
                                       DELAY_MS, "ms", "its one-way delay"));
        t.fields.push_back(NumberField("server_gflops", &NetworkConfig::serverGflops, SPEED_GFLOPS,
                                       "GFLOP/s", "server compute speed"));
        t.fields.push_back(IntegerField("server_workers", &NetworkConfig::serverWorkers, 1, 100000,
                                        "", "requests served in parallel; the rest queue"));
        t.fields.push_back(IntegerField(
            "server_node_connections", &NetworkConfig::serverNodeConnections, 0, 100000, "",
            "connections one server node terminates; more devices are spread over front-end "
            "nodes behind the bottleneck (a load balancer), each taking this many; 0: never"));
        t.fields.push_back(ObjectField("tcp", &NetworkConfig::tcp, TcpTable(), "TCP settings"));
        t.fields.push_back(ArrayField("link_traces", &NetworkConfig::linkTraces, LinkTraceTable(),
                                      "time-varying access link capacities (a later entry wins "
                                      "for a device and direction)"));
        t.fields.push_back(
            ObjectField("wifi", &NetworkConfig::wifi, WifiTable(), "shared WiFi access"));
        t.fields.push_back(ObjectField("lte", &NetworkConfig::lte, LteTable(),
                                       "cells of the devices whose access is \"lte\" "
                                       "(sim/lte-access.h)"));
        return t;
    }();
    return table;
}

const Table<ScheduleConfig>&
ScheduleTable()
{
    static const Table<ScheduleConfig> table = [] {
        Table<ScheduleConfig> t;
        t.fields.push_back(ChoiceField(
            "kind", &ScheduleConfig::kind, ScheduleKinds(),
            "sequential: devices in turn (vanilla SL); splitfed_v1: parallel, a server copy per "
            "device; splitfed_v2: parallel, one shared server model"));
        t.fields.push_back(IntegerField("sync_every_steps", &ScheduleConfig::syncEverySteps, 0,
                                        100000000, "",
                                        "average every this many steps (0: once per round)"));
        t.fields.push_back(IntegerField(
            "max_active_devices", &ScheduleConfig::maxActiveDevices, 0, 100000000, "",
            "devices of a phase training at once: the server STARTs the next when one reports or "
            "times out (pace steering, Bonawitz et al. 2019, \"Towards Federated Learning at "
            "Scale\", sec. 2.3); 0: all at once, as SplitFed (Thapa et al. 2022)"));
        return t;
    }();
    return table;
}

const Table<OutageConfig>&
OutageTable()
{
    static const Table<OutageConfig> table = [] {
        Table<OutageConfig> t;
        t.fields.push_back(IntegerField("device", &OutageConfig::device, 0, INT_MAX64, "",
                                        "the device that is unreachable"));
        t.fields.back().required = true;
        t.fields.back().missing = "missing";
        t.fields.push_back(
            NumberField("from_s", &OutageConfig::fromS, TIME_S, "s", "from this simulated time"));
        auto until = CustomField<OutageConfig>(
            "until_s", "number or null",
            {{"type", Json::array({"number", "null"})}, {"maximum", TIME_S.max}},
            "until this simulated time (> from_s); null: for good");
        until.unit = "s";
        until.range = "(from_s, 1e+09]";
        until.defaultText = "`null`";
        until.read = [](const Json& v, const std::string& path, OutageConfig& o, ReadContext&) {
            if (v.is_null())
            {
                return; // for good
            }
            o.untilS = AsNumber(v, path);
            if (!(o.untilS > o.fromS))
            {
                Fail(path,
                     "must be > from_s (" + NumberText(o.fromS) + "), got " + NumberText(o.untilS));
            }
            CheckNumber(o.untilS, path, TIME_S.min, TIME_S.max, false, false, "s");
        };
        until.write
            = [](const OutageConfig& o) { return std::isinf(o.untilS) ? Json() : Json(o.untilS); };
        t.fields.push_back(until);
        return t;
    }();
    return table;
}

const Table<ChurnConfig>&
ChurnTable()
{
    // 1e7 s: an exponential draw is at most 36.7 means (-ln 2^-53), within the 1e9 s the
    // simulator represents; 1 ms: shorter on/off times are below a round trip and only add
    // events.
    static const Range MEAN_S{0, 1e7};
    static const Table<ChurnConfig> table = [] {
        Table<ChurnConfig> t;
        t.fields.push_back(StringField(
            "file", &ChurnConfig::file,
            "off intervals, relative to the scenario file: a CSV \"device,off_s,on_s\" (on_s "
            "empty: off for good; sim/churn.h); \"\": none"));
        t.fields.push_back(NumberField("mean_on_s", &ChurnConfig::meanOnS, MEAN_S, "s",
                                       "exponential on/off model: mean time a device stays on "
                                       "(0: no model; >= 0.001 otherwise)"));
        t.fields.push_back(NumberField("mean_off_s", &ChurnConfig::meanOffS, MEAN_S, "s",
                                       "and mean time it stays off (given with mean_on_s)"));
        t.fields.push_back(NumberField("horizon_s", &ChurnConfig::horizonS, TIME_S, "s",
                                       "the model switches no device off from this simulated "
                                       "time on (0: the whole run)"));
        t.finish = [](ChurnConfig& c, const std::string& path, const ReadContext& ctx) {
            if ((c.meanOnS > 0) != (c.meanOffS > 0))
            {
                Fail(JoinPath(path, c.meanOnS > 0 ? "mean_off_s" : "mean_on_s"),
                     "give mean_on_s and mean_off_s together (> 0 both, or neither)");
            }
            for (const char* key : {"mean_on_s", "mean_off_s"})
            {
                const double v = std::string(key) == "mean_on_s" ? c.meanOnS : c.meanOffS;
                if (v > 0 && v < 1e-3)
                {
                    Fail(JoinPath(path, key),
                         "must be >= 0.001 s (or 0: no model), got " + NumberText(v));
                }
            }
            if (c.horizonS > 0 && c.meanOnS <= 0)
            {
                Fail(JoinPath(path, "horizon_s"), "applies to the model (mean_on_s, mean_off_s)");
            }
            if (c.file.empty())
            {
                return;
            }
            if (c.file[0] != '/' && !ctx.baseDir.empty())
            {
                c.file = ctx.baseDir + "/" + c.file; // the manifest names the file read
            }
            c.intervals = ReadChurnIntervals(c.file);
        };
        return t;
    }();
    return table;
}

const Table<FaultConfig>&
FaultTable()
{
    static const Table<FaultConfig> table = [] {
        Table<FaultConfig> t;
        t.fields.push_back(NumberField("timeout_s", &FaultConfig::timeoutS,
                                       Range{0, TIME_S.max, true}, "s",
                                       "the server skips a device silent this long in a round"));
        t.fields.push_back(ArrayField("outages", &FaultConfig::outages, OutageTable(),
                                      "devices unreachable for a while: the access link drops "
                                      "everything meanwhile"));
        t.fields.push_back(ObjectField("churn", &FaultConfig::churn, ChurnTable(),
                                       "devices switched off and on (listed intervals and an "
                                       "exponential on/off model); none by default"));
        return t;
    }();
    return table;
}

const Table<DiagnosticsConfig>&
DiagnosticsTable()
{
    static const Table<DiagnosticsConfig> table = [] {
        Table<DiagnosticsConfig> t;
        t.fields.push_back(NumberField(
            "rto_warning_share", &DiagnosticsConfig::rtoWarningShare, Range{0, 1}, "",
            "warn at the end of a run when retransmission-timer waits cover more than this share "
            "of the simulated time (1: never); 0.05 is above the differences codec comparisons "
            "rest on, and one Linux minimum RTO (200 ms, TCP_RTO_MIN) in a 2-s run (10 %) is "
            "reported"));
        return t;
    }();
    return table;
}

// ---- the scenario --------------------------------------------------------------------------

/// Input shape and classes of the dataset (for the model).
void
DatasetShape(const DatasetConfig& d, Shape& shape, int& classes)
{
    shape = DatasetSampleShape(d);
    classes = DatasetClasses(d);
}

/// The model's input and classes come from the dataset; the layers must fit, the cut must exist
/// and a checkpoint to start from must match the model.
void
CheckModel(ModelConfig& m, const DatasetConfig& d)
{
    DatasetShape(d, m.input, m.classes);
    const std::vector<std::string> cuts = CutNames(m.name);
    // Named cuts of the presets are listed; indices and layer names are checked by the builder.
    const bool numeric
        = !m.cut.empty() && m.cut.find_first_not_of("0123456789") == std::string::npos;
    if (m.name != "custom" && !numeric && m.cut != "none"
        && std::find(cuts.begin(), cuts.end(), m.cut) == cuts.end())
    {
        bool layerName = false;
        try
        {
            for (const LayerSpec& l : PresetSpec(m).layers)
            {
                layerName = layerName || l.name == m.cut;
            }
        }
        catch (const InputError&)
        {
            // the input does not fit the preset: reported below
        }
        if (!layerName)
        {
            std::string list;
            for (const auto& n : cuts)
            {
                list += (list.empty() ? "" : ", ") + n;
            }
            Fail("model.cut", "no cut \"" + m.cut + "\" in " + m.name + " (" + list
                                  + ", a layer index or a layer's name)");
        }
    }
    if (m.cut == "none")
    {
        Fail("model.cut", "a split run needs a cut ('none' has no server part)");
    }
    try
    {
        DescribeModel(m);
    }
    catch (const InputError& e)
    {
        const std::string msg = e.what();
        throw InputError(msg.rfind("model.", 0) == 0 ? msg : "model.cut: " + msg);
    }
    if (!m.initFrom.empty())
    {
        try
        {
            SplitModel model = BuildSplitModel(m, OptimizerConfig(), 0);
            LoadCheckpoint(m.initFrom, model);
        }
        catch (const InputError& e)
        {
            throw InputError(std::string("model.init_from: ") + e.what());
        }
    }
}

/// The WiFi devices against network.wifi: stations per AP, and each station's signal.
void
CheckWifiDevices(const NetworkConfig& net)
{
    const WifiConfig& w = net.wifi;
    size_t stations = 0;
    for (size_t i = 0; i < net.devices.size(); ++i)
    {
        const DeviceProfile& d = net.devices[i];
        if (d.access != "wifi")
        {
            continue;
        }
        ++stations;
        // Log-distance path loss (ns-3's LogDistancePropagationLossModel, reference 1 m):
        // L = L0 + 10 n log10(d); below 1 m, L0. A station that cannot decode its AP's
        // lowest rate would never associate: its device would never start.
        const double lossDb
            = w.referenceLossDb + 10 * w.lossExponent * std::log10(std::max(d.wifiDistanceM, 1.0));
        const double rxDbm = w.txPowerDbm - lossDb;
        if (rxDbm < WIFI_MIN_RX_DBM)
        {
            Fail("devices", "device " + std::to_string(i) + " at wifi_distance_m "
                                + NumberText(d.wifiDistanceM) + " receives " + NumberText(rxDbm)
                                + " dBm from its AP, below " + NumberText(WIFI_MIN_RX_DBM)
                                + " dBm (IEEE 802.11's MCS 0 sensitivity): it cannot associate");
        }
    }
    // Both assignment rules put at most ceil(n / k) stations on an AP.
    const size_t perAp = (stations + w.apCount - 1) / w.apCount;
    if (perAp > WIFI_MAX_STATIONS_PER_AP)
    {
        Fail("network.wifi.ap_count", std::to_string(stations) + " WiFi devices on "
                                          + std::to_string(w.apCount)
                                          + " APs: " + std::to_string(perAp) + " on one, more than "
                                          + std::to_string(WIFI_MAX_STATIONS_PER_AP)
                                          + " (IEEE 802.11's association ID limit)");
    }
}

/// U-shaped split learning (model.head_cut): what it cannot be combined with.
void
CheckUShaped(const ScenarioConfig& c)
{
    if (c.model.headCut.empty())
    {
        return;
    }
    if (!c.training.replay.empty())
    {
        Fail("training.replay", "not with model.head_cut: a network-only replay models one round "
                                "trip per step, a U-shaped step has two");
    }
    if (c.schedule.kind == "splitfed_v2" && c.network.devices.size() > 1)
    {
        Fail("schedule.kind", "splitfed_v2 shares one server model among devices training at "
                              "once, and with model.head_cut its forward and backward for a "
                              "device are a round trip apart (use sequential or splitfed_v1)");
    }
}

/// Each device's own cut (a profile's or a list entry's `cut`) must exist in the model, named at
/// the JSON path it was given at; a replay stands for one model's shapes, so it has one cut.
void
CheckDeviceCuts(const ScenarioConfig& c)
{
    std::set<std::pair<std::string, std::string>> checked; // (cut, path)
    for (const DeviceProfile& d : c.network.devices)
    {
        if (d.cut.empty() || !checked.insert({d.cut, d.cutPath}).second)
        {
            continue;
        }
        ModelConfig m = c.model;
        m.cut = d.cut;
        m.initFrom.clear(); // checked against model.cut's split: the same tensor names
        try
        {
            CheckModel(m, c.dataset);
        }
        catch (const InputError& e)
        {
            const std::string msg = e.what();
            const std::string prefix = "model.cut: ";
            Fail(d.cutPath, msg.rfind(prefix, 0) == 0 ? msg.substr(prefix.size()) : msg);
        }
    }
    if (!c.training.replay.empty() && !checked.empty()
        && ResolveDeviceCuts(c.model, c.network.devices).groups > 1)
    {
        Fail("training.replay", "not with per-device cuts (" + checked.begin()->second
                                    + "): a replay stands for one model's shapes");
    }
    if (!c.model.headCut.empty() && !checked.empty()
        && ResolveDeviceCuts(c.model, c.network.devices).groups > 1)
    {
        Fail(checked.begin()->second, "not with model.head_cut: U-shaped split learning keeps one "
                                      "cut for every device");
    }
}

/// LTE devices: ns-3's limit per cell and the measured affordable count (scenarios/README.md,
/// "LTE access": 15.6 CPU s per simulated s at 100 UEs, 34 at 200).
void
CheckLteDevices(const NetworkConfig& n)
{
    size_t ues = 0;
    for (const DeviceProfile& d : n.devices)
    {
        ues += d.access == "lte" ? 1 : 0;
    }
    if (ues == 0)
    {
        return;
    }
    if (n.lte.enbCount > ues)
    {
        Fail("network.lte.enb_count", std::to_string(n.lte.enbCount) + " eNodeBs for "
                                          + std::to_string(ues) + " LTE devices (at most one "
                                          + "eNodeB per LTE device)");
    }
    // ns-3 gives each UE of a cell its own SRS configuration index and refuses a UE when none is
    // left: at most 319 with the longest SRS periodicity (320 ms, TS 36.213 Table 8.2-1).
    const size_t perCell = (ues + n.lte.enbCount - 1) / n.lte.enbCount;
    if (perCell > LTE_MAX_UES_PER_CELL)
    {
        Fail("network.lte.enb_count",
             std::to_string(ues) + " LTE devices need at least "
                 + std::to_string((ues + LTE_MAX_UES_PER_CELL - 1) / LTE_MAX_UES_PER_CELL)
                 + " eNodeBs (ns-3 takes at most " + std::to_string(LTE_MAX_UES_PER_CELL)
                 + " UEs per cell: one SRS index each); for more devices use wired access with "
                   "network.link_traces");
    }
    if (ues > LTE_AFFORDABLE_UES)
    {
        std::cerr << "slsim: warning: " << ues << " LTE devices: above " << LTE_AFFORDABLE_UES
                  << ", ns-3's LTE costs about 0.17 CPU s per UE per simulated second "
                     "(scenarios/README.md, \"LTE access\"); for larger counts replay measured "
                     "capacities on wired access links (network.link_traces)\n";
    }
}

/// Combinations across sections, and values derived from other sections.
void
FinishScenario(ScenarioConfig& c, const ReadContext& ctx)
{
    if (!ctx.given.count("dataset"))
    {
        DatasetConfig& d = c.dataset;
        StandardNormalisation(d.name, Channels(d), d.mean, d.std);
    }
    CheckModel(c.model, c.dataset);
    CheckUShaped(c);
    CheckDeviceCuts(c);
    if (!ctx.given.count("optimizer.total_epochs")
        && (ctx.given.count("training.epochs") || c.training.timeBudgetS <= 0))
    {
        c.optimizer.totalEpochs = c.training.epochs;
    }
    const int devices = static_cast<int>(c.network.devices.size());
    for (size_t i = 0; i < c.faults.outages.size(); ++i)
    {
        const int d = c.faults.outages[i].device;
        if (d >= devices)
        {
            Fail(IndexPath("faults.outages", i) + ".device",
                 "no device " + std::to_string(d) + " (there are " + std::to_string(devices) + ")");
        }
    }
    for (const ChurnInterval& ci : c.faults.churn.intervals)
    {
        if (ci.device >= devices)
        {
            throw CsvError(c.faults.churn.file, ci.line,
                           "no device " + std::to_string(ci.device) + " (there are "
                               + std::to_string(devices) + ")");
        }
    }
    for (size_t i = 0; i < c.network.linkTraces.size(); ++i)
    {
        const int d = c.network.linkTraces[i].device;
        if (d >= devices)
        {
            Fail(IndexPath("network.link_traces", i) + ".device",
                 "no device " + std::to_string(d) + " (there are " + std::to_string(devices) + ")");
        }
        if (d >= 0 && c.network.devices[static_cast<size_t>(d)].access != "wired")
        {
            Fail(IndexPath("network.link_traces", i) + ".device",
                 "device " + std::to_string(d) + " has access \""
                     + c.network.devices[static_cast<size_t>(d)].access
                     + "\": a capacity trace drives a wired link");
        }
    }
    CheckWifiDevices(c.network);
    CheckLteDevices(c.network);
    // The data must be there before anything runs (the readers check the files themselves);
    // the folder found is what the run reads and the manifest records.
    if (c.dataset.name != "synthetic")
    {
        c.dataset.path = FindDataFolder(c.dataset.name, c.dataset.path);
        // Headers, sizes and labels against the model's input, before anything is allocated.
        try
        {
            InspectDataset(c.dataset, true);
            if (c.training.replay.empty()) // a replay reads no test set
            {
                InspectDataset(c.dataset, false);
            }
        }
        catch (const InputError& e)
        {
            Fail("dataset", e.what());
        }
    }
    const size_t n = c.network.devices.size();
    if (c.dataset.name == "synthetic" && c.dataset.syntheticTrain < n)
    {
        Fail("dataset.synthetic.train", "must be >= the number of devices (" + std::to_string(n)
                                            + "), got " + std::to_string(c.dataset.syntheticTrain));
    }
    if (c.dataset.trainSubset > 0 && c.dataset.trainSubset < n)
    {
        Fail("dataset.train_subset", "must be >= the number of devices (" + std::to_string(n)
                                         + ") or 0, got " + std::to_string(c.dataset.trainSubset));
    }
    if (c.partition.kind == PartitionKind::SHARDS && c.dataset.name == "synthetic"
        && c.dataset.syntheticTrain < n * static_cast<size_t>(c.partition.shardsPerDevice))
    {
        Fail("partition.shards_per_device", "too many shards for "
                                                + std::to_string(c.dataset.syntheticTrain)
                                                + " training samples");
    }
}

} // namespace

const Table<ScenarioConfig>&
ScenarioTable()
{
    static const Table<ScenarioConfig> table = [] {
        Table<ScenarioConfig> t;
        t.ignored = {"$schema"};
        auto description = CustomField<ScenarioConfig>("description", "string",
                                                       {{"type", "string"}}, "free text, ignored");
        description.read = [](const Json& v, const std::string& path, ScenarioConfig&,
                              ReadContext&) { AsString(v, path); };
        t.fields.push_back(description);
        auto name = StringField("name", &ScenarioConfig::name, "label in outputs");
        name.read = [](const Json& v, const std::string& path, ScenarioConfig& c, ReadContext&) {
            c.name = AsString(v, path);
            if (c.name.empty())
            {
                Fail(path, "must not be empty");
            }
        };
        t.fields.push_back(name);
        auto seed = CustomField<ScenarioConfig>(
            "seed", "integer", {{"type", "integer"}, {"minimum", 0}},
            "seeds every random stream (init, shuffle, partition, devices, codecs, network)");
        seed.range = "0..2^64-1";
        seed.read = [](const Json& v, const std::string& path, ScenarioConfig& c, ReadContext&) {
            if (v.is_number_unsigned())
            {
                c.seed = v.get<uint64_t>();
                return;
            }
            const int64_t i = AsInteger(v, path);
            if (i < 0)
            {
                Fail(path, "must be >= 0, got " + std::to_string(i));
            }
            c.seed = static_cast<uint64_t>(i);
        };
        seed.write = [](const ScenarioConfig& c) { return Json(c.seed); };
        t.fields.push_back(seed);
        t.fields.push_back(ObjectField("dataset", &ScenarioConfig::dataset, DatasetTable(),
                                       "training and test data"));
        t.fields.push_back(ObjectField("partition", &ScenarioConfig::partition, PartitionTable(),
                                       "how the training set is split over the devices"));
        t.fields.push_back(ObjectField("model", &ScenarioConfig::model, ModelTable(),
                                       "the model and where it is cut"));
        t.fields.push_back(ObjectField("training", &ScenarioConfig::training, TrainingTable(),
                                       "length, evaluation, replay"));
        t.fields.push_back(ObjectField("optimizer", &ScenarioConfig::optimizer, OptimizerTable(),
                                       "optimizer and learning-rate schedule"));
        auto codec = GroupField("codec", CodecGroupTable(), "codecs per direction");
        codec.nested = [](const std::string&, std::string& md) {
            MarkdownOf(CodecTable(),
                       "codec.uplink`, `codec.downlink`, `codec.sync`, `codec.head_downlink`, "
                       "`codec.head_uplink",
                       md);
        };
        t.fields.push_back(codec);
        t.fields.push_back(ObjectField("network", &ScenarioConfig::network, NetworkTable(),
                                       "the shared link, the server, TCP"));
        auto devices = CustomField<ScenarioConfig>("devices", "object", DevicesSchema(),
                                                   "the devices and their links (see below)");
        devices.required = true;
        devices.missing = "missing (e.g. {\"count\": 3})";
        devices.defaultText = "see below";
        devices.read
            = [](const Json& v, const std::string& path, ScenarioConfig& c, ReadContext& ctx) {
                  c.network.devices = ResolveDevices(v, path, c.seed, ctx.baseDir);
              };
        devices.write = [](const ScenarioConfig& c) {
            Json list = Json::array();
            for (const auto& dev : c.network.devices)
            {
                list.push_back(DeviceToJson(dev));
            }
            return Json{{"count", c.network.devices.size()}, {"list", list}};
        };
        devices.nested
            = [](const std::string& path, std::string& md) { DevicesMarkdown(path, md); };
        t.fields.push_back(devices);
        t.fields.push_back(ObjectField("schedule", &ScenarioConfig::schedule, ScheduleTable(),
                                       "who trains when and how weights are averaged"));
        t.fields.push_back(
            ObjectField("faults", &ScenarioConfig::faults, FaultTable(), "time-outs and outages"));
        t.fields.push_back(ObjectField("diagnostics", &ScenarioConfig::diagnostics,
                                       DiagnosticsTable(), "what a run warns about"));
        t.fields.push_back(BoolField("record_frames", &ScenarioConfig::recordFrames,
                                     "also write frames.csv (one row per frame)"));
        t.finish = [](ScenarioConfig& c, const std::string&, const ReadContext& ctx) {
            FinishScenario(c, ctx);
        };
        return t;
    }();
    return table;
}

Json
ScenarioSchema()
{
    Json body = SchemaOf(ScenarioTable());
    Json s = {{"$schema", "https://json-schema.org/draft/2020-12/schema"},
              {"$id", "https://slsim.invalid/scenario.schema.json"},
              {"title", "slsim scenario"},
              {"description",
               "One split-learning scenario. Generated by `slsim schema` from the key tables in "
               "app/scenario-keys.cc; do not edit. Every key is optional except devices. slsim "
               "validate checks more than this schema (ranges across fields, cuts of the model, "
               "codec ranges per method)."}};
    for (auto it = body.begin(); it != body.end(); ++it)
    {
        s[it.key()] = it.value();
    }
    return s;
}

std::string
ScenarioMarkdown()
{
    std::string md;
    MarkdownOf(ScenarioTable(), "", md);
    return md;
}

} // namespace slsim
