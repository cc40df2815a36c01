#include "app/scenario-loader.h"

#include "app/device-resolver.h"
#include "app/fs-util.h"
#include "common/error.h"
#include "compression/codec.h"
#include "models/data/dataset.h"
#include "models/split-model.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

namespace slsim
{

namespace
{

constexpr double INF = std::numeric_limits<double>::infinity();
constexpr int64_t INT_MAX64 = std::numeric_limits<int>::max();

// ---- paths of --set ------------------------------------------------------------------------

struct PathStep
{
    bool isIndex;
    std::string key;
    size_t index;
};

std::vector<PathStep>
ParsePath(const std::string& path, const std::string& what)
{
    std::vector<PathStep> steps;
    size_t i = 0;
    auto bad = [&](const std::string& why) { throw InputError(what + ": " + why); };
    if (path.empty())
    {
        bad("empty key path");
    }
    while (i < path.size())
    {
        size_t j = i;
        while (j < path.size() && path[j] != '.' && path[j] != '[')
        {
            ++j;
        }
        if (j == i && (j >= path.size() || path[j] != '['))
        {
            bad("empty key in path \"" + path + "\"");
        }
        if (j > i)
        {
            steps.push_back({false, path.substr(i, j - i), 0});
        }
        i = j;
        while (i < path.size() && path[i] == '[')
        {
            const size_t close = path.find(']', i);
            if (close == std::string::npos || close == i + 1)
            {
                bad("bad index in path \"" + path + "\"");
            }
            const std::string digits = path.substr(i + 1, close - i - 1);
            if (digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 6)
            {
                bad("bad index in path \"" + path + "\"");
            }
            steps.push_back({true, "", static_cast<size_t>(std::stoul(digits))});
            i = close + 1;
        }
        if (i < path.size())
        {
            if (path[i] != '.' || i + 1 == path.size())
            {
                bad("bad key path \"" + path + "\"");
            }
            ++i;
        }
    }
    return steps;
}

// ---- sections ----------------------------------------------------------------------------

Shape
ReadShape(ObjectReader& r, const std::string& key, const Shape& def)
{
    std::vector<int> dims;
    if (!r.IntegerList(key, dims, 1, 1 << 16))
    {
        return def;
    }
    if (dims.empty() || dims.size() > 3)
    {
        Fail(r.PathOf(key), "must have 1 to 3 dimensions (C, H, W)");
    }
    std::vector<int64_t> d(dims.begin(), dims.end());
    while (d.size() < 3)
    {
        d.insert(d.begin(), 1); // [64] -> 1x1x64: the datasets are CHW
    }
    return Shape(d);
}

void
ReadDataset(ObjectReader& top, ScenarioConfig& c)
{
    const Json* j = top.Find("dataset");
    DatasetConfig& d = c.dataset;
    if (!j)
    {
        StandardNormalisation(d.name, static_cast<int>(d.syntheticShape.dims[0]), d.mean, d.std);
        return;
    }
    ObjectReader r(*j, "dataset");
    r.Choice("name", d.name, KnownDatasets());
    r.String("path", d.path);
    r.Bool("augment", d.augment);
    r.Size("train_subset", d.trainSubset, 100000000);
    r.Size("test_subset", d.testSubset, 100000000);
    r.Bool("subset_random", d.subsetRandom);
    if (const Json* s = r.Find("synthetic"))
    {
        if (d.name != "synthetic")
        {
            Fail(r.PathOf("synthetic"),
                 "only for dataset.name \"synthetic\", not \"" + d.name + "\"");
        }
        ObjectReader sr(*s, r.PathOf("synthetic"));
        sr.Size("train", d.syntheticTrain, 10000000);
        sr.Size("test", d.syntheticTest, 10000000);
        sr.Integer("classes", d.syntheticClasses, 2, 256);
        d.syntheticShape = ReadShape(sr, "shape", d.syntheticShape);
        if (d.syntheticTrain == 0 || d.syntheticTest == 0)
        {
            Fail(sr.PathOf(d.syntheticTrain == 0 ? "train" : "test"), "must be >= 1");
        }
        sr.Finish();
    }
    const int channels = d.name == "synthetic" ? static_cast<int>(d.syntheticShape.dims[0])
                         : d.name == "cifar10" ? 3
                                               : 1;
    r.NumberList("mean", d.mean);
    r.NumberList("std", d.std);
    for (const char* key : {"mean", "std"})
    {
        const auto& v = std::string(key) == "mean" ? d.mean : d.std;
        if (r.Has(key) && v.size() != static_cast<size_t>(channels))
        {
            Fail(r.PathOf(key), "must have one value per channel (" + std::to_string(channels)
                                    + "), got " + std::to_string(v.size()));
        }
    }
    for (size_t i = 0; i < d.std.size(); ++i)
    {
        CheckNumber(d.std[i], IndexPath(r.PathOf("std"), i), 0, INF, true);
    }
    if (d.mean.empty() != d.std.empty())
    {
        Fail(r.PathOf(d.mean.empty() ? "mean" : "std"), "give both mean and std, or neither");
    }
    if (d.mean.empty())
    {
        StandardNormalisation(d.name, channels, d.mean, d.std);
    }
    r.Finish();
}

void
ReadPartition(ObjectReader& top, ScenarioConfig& c)
{
    const Json* j = top.Find("partition");
    if (!j)
    {
        return;
    }
    ObjectReader r(*j, "partition");
    std::string kind;
    if (r.Choice("kind", kind, {"iid", "dirichlet", "shards"}))
    {
        c.partition.kind = ParsePartitionKind(kind);
    }
    r.Number("alpha", c.partition.alpha, 0, INF, true);
    r.Integer("shards_per_device", c.partition.shardsPerDevice, 1, 100000);
    r.Finish();
}

/// Input shape and classes of the dataset (for the model).
void
DatasetShape(const DatasetConfig& d, Shape& shape, int& classes)
{
    classes = 10;
    if (d.name == "synthetic")
    {
        shape = d.syntheticShape;
        classes = d.syntheticClasses;
    }
    else if (d.name == "cifar10")
    {
        shape = Shape{3, 32, 32};
    }
    else if (d.name == "digits")
    {
        shape = Shape{1, 8, 8};
    }
    else
    {
        shape = Shape{1, 28, 28}; // mnist, fashion-mnist
    }
}

std::vector<std::string>
ModelCuts(const std::string& name)
{
    try
    {
        return CutNames(name);
    }
    catch (const InputError&)
    {
        Fail("model.name", "unknown model \"" + name + "\"");
    }
}

void
ReadModel(ObjectReader& top, ScenarioConfig& c)
{
    ModelConfig& m = c.model;
    DatasetShape(c.dataset, m.input, m.classes);
    const Json* j = top.Find("model");
    if (j)
    {
        ObjectReader r(*j, "model");
        r.String("name", m.name);
        ModelCuts(m.name);
        r.Number("width", m.width, 0, 64, true);
        if (const Json* cut = r.Find("cut"))
        {
            if (cut->is_number())
            {
                m.cut = std::to_string(AsInteger(*cut, r.PathOf("cut")));
            }
            else
            {
                m.cut = AsString(*cut, r.PathOf("cut"));
            }
        }
        if (r.IntegerList("hidden", m.hidden, 1, 1 << 20) && m.name != "mlp")
        {
            Fail(r.PathOf("hidden"), "only for model \"mlp\", not \"" + m.name + "\"");
        }
        r.Integer("threads", m.threads, 0, 1024);
        r.Finish();
    }
    const std::vector<std::string> cuts = ModelCuts(m.name);
    // Named cuts are listed; numeric cuts are checked by the model builder itself.
    const bool numeric
        = !m.cut.empty() && m.cut.find_first_not_of("0123456789") == std::string::npos;
    if (!numeric && std::find(cuts.begin(), cuts.end(), m.cut) == cuts.end())
    {
        std::string list;
        for (const auto& n : cuts)
        {
            list += (list.empty() ? "" : ", ") + n;
        }
        Fail("model.cut",
             "no cut \"" + m.cut + "\" in " + m.name + " (" + list + ", or a layer index)");
    }
    try
    {
        CutShape(m);
    }
    catch (const InputError& e)
    {
        const std::string msg = e.what();
        throw InputError(msg.rfind("model.", 0) == 0 ? msg : "model.cut: " + msg);
    }
}

void
ReadTraining(ObjectReader& top, ScenarioConfig& c, bool& epochsGiven)
{
    TrainingConfig& t = c.training;
    epochsGiven = false;
    const Json* j = top.Find("training");
    if (!j)
    {
        return;
    }
    ObjectReader r(*j, "training");
    r.Integer("batch_size", t.batchSize, 1, 1 << 16);
    epochsGiven = r.Integer("epochs", t.epochs, 1, 1000000);
    r.Number("time_budget_s", t.timeBudgetS, 0, INF);
    r.Integer("eval_every_rounds", t.evalEveryRounds, 1, 1000000);
    r.Bool("compress_eval", t.compressEval);
    r.Number("target_accuracy", t.targetAccuracy, 0, 1);
    r.Integer("eval_batch", t.evalBatch, 1, 1 << 16);
    r.String("replay", t.replay);
    if (t.timeBudgetS > 0 && !epochsGiven)
    {
        // A time budget alone: train until the budget runs out.
        t.epochs = 1000000;
    }
    r.Finish();
}

void
ReadOptimizer(ObjectReader& top, ScenarioConfig& c, bool epochsGiven)
{
    OptimizerConfig& o = c.optimizer;
    o.totalEpochs = epochsGiven || c.training.timeBudgetS <= 0 ? c.training.epochs : o.totalEpochs;
    const Json* j = top.Find("optimizer");
    if (!j)
    {
        return;
    }
    ObjectReader r(*j, "optimizer");
    r.Choice("name", o.name, {"sgd", "adam"});
    r.Number("lr", o.lr, 0, 100, true);
    r.Number("momentum", o.momentum, 0, 1, false, true);
    r.Number("weight_decay", o.weightDecay, 0, 1);
    r.Bool("nesterov", o.nesterov);
    r.Number("beta1", o.beta1, 0, 1, false, true);
    r.Number("beta2", o.beta2, 0, 1, false, true);
    r.Number("eps", o.eps, 0, 1, true);
    r.Choice("schedule", o.schedule, {"constant", "step", "multistep", "cosine"});
    r.Integer("step_epochs", o.stepEpochs, 1, 1000000);
    if (r.IntegerList("milestones", o.milestones, 1, 1000000))
    {
        if (o.schedule != "multistep")
        {
            Fail(r.PathOf("milestones"), "only for schedule \"multistep\"");
        }
        for (size_t i = 1; i < o.milestones.size(); ++i)
        {
            if (o.milestones[i] <= o.milestones[i - 1])
            {
                Fail(IndexPath(r.PathOf("milestones"), i), "milestones must increase");
            }
        }
    }
    else if (o.schedule == "multistep")
    {
        Fail(r.PathOf("milestones"), "missing (schedule \"multistep\" needs milestones)");
    }
    r.Number("gamma", o.gamma, 0, 1, true);
    r.Integer("total_epochs", o.totalEpochs, 1, 1000000);
    if (o.nesterov && (o.name != "sgd" || o.momentum <= 0))
    {
        Fail(r.PathOf("nesterov"), "needs optimizer \"sgd\" with momentum > 0");
    }
    for (const char* key : {"beta1", "beta2", "eps"})
    {
        if (r.Has(key) && o.name != "adam")
        {
            Fail(r.PathOf(key), "only for optimizer \"adam\"");
        }
    }
    r.Finish();
}

CodecConfig
ReadCodec(const Json& j, const std::string& path)
{
    CodecConfig k;
    ObjectReader r(j, path);
    r.String("method", k.method);
    r.Number("sparsity", k.sparsity, 0, 1, false, true);
    r.Integer("bits", k.bits, -1000, 1000);
    r.String("index", k.index);
    r.Number("randtopk_a", k.randtopkA, -INF, INF);
    r.Bool("floor", k.floorCodes);
    r.Bool("signed", k.signedValues);
    r.Bool("stochastic", k.stochastic);
    r.Number("budget_bits_per_element", k.budgetBitsPerElement, 0, 64);
    r.Finish();
    // Ranges and combinations are the codec module's to judge; its messages start with the
    // field name relative to the codec object.
    try
    {
        ValidateCodecConfig(k);
        ResolveBudget(k);
    }
    catch (const InputError& e)
    {
        throw InputError(path + "." + e.what());
    }
    return k;
}

void
ReadCodecs(ObjectReader& top, ScenarioConfig& c)
{
    const Json* j = top.Find("codec");
    if (!j)
    {
        return;
    }
    ObjectReader r(*j, "codec");
    if (const Json* v = r.Find("uplink"))
    {
        c.uplink = ReadCodec(*v, "codec.uplink");
    }
    if (const Json* v = r.Find("downlink"))
    {
        c.downlink = ReadCodec(*v, "codec.downlink");
    }
    if (const Json* v = r.Find("sync"))
    {
        c.sync = ReadCodec(*v, "codec.sync");
    }
    r.Finish();
}

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

void
ReadNetwork(ObjectReader& top, ScenarioConfig& c)
{
    NetworkConfig& n = c.network;
    const Json* j = top.Find("network");
    if (!j)
    {
        return;
    }
    ObjectReader r(*j, "network");
    r.Number("bottleneck_mbps", n.bottleneckMbps, 0, 1e6, true);
    r.Number("bottleneck_delay_ms", n.bottleneckDelayMs, 0, 1e6);
    r.Number("server_gflops", n.serverGflops, 0, 1e9, true);
    r.Integer("server_workers", n.serverWorkers, 1, 100000);
    if (const Json* t = r.Find("tcp"))
    {
        ObjectReader tr(*t, r.PathOf("tcp"));
        TcpConfig& tcp = n.tcp;
        // The profile sets every other key's default; explicit keys then override it.
        std::string profile = tcp.profile;
        tr.Choice("profile", profile, {"linux", "legacy"});
        tcp = TcpProfile(profile);
        tr.Choice("variant", tcp.variant, TcpVariants());
        tr.Unsigned32("segment_bytes", tcp.segmentBytes, 64, 65000);
        tr.Unsigned32("send_buffer_bytes", tcp.sendBufferBytes, 1024, 1u << 30);
        tr.Unsigned32("receive_buffer_bytes", tcp.receiveBufferBytes, 1024, 1u << 30);
        tr.Unsigned32("queue_packets", tcp.queuePackets, 0, 1000000);
        tr.Unsigned32("queue_bytes", tcp.queueBytes, 0, 1u << 30);
        tr.Number("queue_bdp_factor", tcp.queueBdpFactor, 0, 100, true);
        tr.Bool("queue_disc", tcp.queueDisc);
        tr.Choice("aqm", tcp.aqm, {"none", "fq_codel", "codel", "pie"});
        if (tcp.queueDisc && tcp.aqm != "none" && tcp.aqm != "fq_codel")
        {
            Fail(tr.PathOf("queue_disc"), "true means aqm \"fq_codel\"; got aqm \"" + tcp.aqm
                                              + "\" too (drop queue_disc)");
        }
        tr.Unsigned32("delayed_ack_count", tcp.delayedAckCount, 1, 64);
        tr.Number("delayed_ack_timeout_ms", tcp.delayedAckTimeoutMs, 0, 10000, true);
        tr.Bool("sack", tcp.sack);
        tr.Bool("window_scaling", tcp.windowScaling);
        tr.Bool("timestamps", tcp.timestamps);
        tr.Number("min_rto_ms", tcp.minRtoMs, 0, 60000, true);
        tr.Number("clock_granularity_ms", tcp.clockGranularityMs, 0, 1000, true);
        tr.Unsigned32("initial_cwnd_segments", tcp.initialCwndSegments, 1, 1000);
        for (const char* key : {"send_buffer_bytes", "receive_buffer_bytes"})
        {
            const uint32_t v = std::string(key) == "send_buffer_bytes" ? tcp.sendBufferBytes
                                                                       : tcp.receiveBufferBytes;
            if (v < tcp.segmentBytes)
            {
                Fail(tr.PathOf(key), "must be >= segment_bytes (" + std::to_string(tcp.segmentBytes)
                                         + "), got " + std::to_string(v));
            }
        }
        tr.Finish();
    }
    r.Finish();
}

void
ReadSchedule(ObjectReader& top, ScenarioConfig& c)
{
    const Json* j = top.Find("schedule");
    if (!j)
    {
        return;
    }
    ObjectReader r(*j, "schedule");
    r.Choice("kind", c.schedule.kind, {"sequential", "splitfed_v1", "splitfed_v2"});
    r.Integer("sync_every_steps", c.schedule.syncEverySteps, 0, 100000000);
    r.Finish();
}

void
ReadFaults(ObjectReader& top, ScenarioConfig& c)
{
    const Json* j = top.Find("faults");
    if (!j)
    {
        return;
    }
    ObjectReader r(*j, "faults");
    r.Number("timeout_s", c.faults.timeoutS, 0, 1e9, true);
    if (const Json* o = r.Find("outages"))
    {
        if (!o->is_array())
        {
            Fail(r.PathOf("outages"), "must be an array, got " + Describe(*o));
        }
        const int devices = static_cast<int>(c.network.devices.size());
        for (size_t i = 0; i < o->size(); ++i)
        {
            ObjectReader orr((*o)[i], IndexPath(r.PathOf("outages"), i));
            OutageConfig out;
            if (!orr.Integer("device", out.device, 0, INT_MAX64))
            {
                Fail(orr.PathOf("device"), "missing");
            }
            if (out.device >= devices)
            {
                Fail(orr.PathOf("device"), "no device " + std::to_string(out.device)
                                               + " (there are " + std::to_string(devices) + ")");
            }
            orr.Number("from_s", out.fromS, 0, INF);
            if (const Json* u = orr.Find("until_s"))
            {
                if (!u->is_null()) // null: for good
                {
                    out.untilS = AsNumber(*u, orr.PathOf("until_s"));
                    if (!(out.untilS > out.fromS))
                    {
                        Fail(orr.PathOf("until_s"), "must be > from_s (" + NumberText(out.fromS)
                                                        + "), got " + NumberText(out.untilS));
                    }
                }
            }
            orr.Finish();
            c.faults.outages.push_back(out);
        }
    }
    r.Finish();
}

Json
CodecToJson(const CodecConfig& k)
{
    Json j = Json::object();
    j["method"] = k.method;
    j["sparsity"] = k.sparsity;
    j["bits"] = k.bits;
    j["index"] = k.index;
    j["randtopk_a"] = k.randtopkA;
    j["floor"] = k.floorCodes;
    j["signed"] = k.signedValues;
    j["stochastic"] = k.stochastic;
    j["budget_bits_per_element"] = k.budgetBitsPerElement;
    return j;
}

std::string
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

/// The first JSON path under `path` where `a` and `b` differ ("" when equal; the two values in
/// `diff`). Keys in `skip` (full paths) are not compared.
std::string
FirstDifference(const Json& a, const Json& b, const std::string& path,
                const std::set<std::string>& skip, std::pair<Json, Json>& diff)
{
    if (skip.count(path))
    {
        return "";
    }
    if (a.is_object() && b.is_object())
    {
        for (const auto& [key, value] : a.items())
        {
            const std::string sub = JoinPath(path, key);
            if (!b.contains(key))
            {
                if (skip.count(sub))
                {
                    continue;
                }
                diff = {value, Json()};
                return sub;
            }
            const std::string d = FirstDifference(value, b[key], sub, skip, diff);
            if (!d.empty())
            {
                return d;
            }
        }
        for (const auto& [key, value] : b.items())
        {
            if (!a.contains(key) && !skip.count(JoinPath(path, key)))
            {
                diff = {Json(), value};
                return JoinPath(path, key);
            }
        }
        return "";
    }
    if (a.is_array() && b.is_array() && a.size() == b.size())
    {
        for (size_t i = 0; i < a.size(); ++i)
        {
            const std::string d = FirstDifference(a[i], b[i], IndexPath(path, i), skip, diff);
            if (!d.empty())
            {
                return d;
            }
        }
        return "";
    }
    diff = {a, b};
    return a == b ? "" : path;
}

/// The value at a dotted path of plain keys, or null.
Json
ValueAt(const Json& doc, const std::string& path)
{
    const Json* v = &doc;
    size_t start = 0;
    while (start <= path.size())
    {
        const size_t dot = std::min(path.find('.', start), path.size());
        const std::string key = path.substr(start, dot - start);
        if (!v->is_object() || !v->contains(key))
        {
            return Json();
        }
        v = &(*v)[key];
        start = dot + 1;
    }
    return *v;
}

/// training.replay: the reference folder holds a finished run whose training this scenario
/// would repeat exactly, whatever the network. Runs before anything is built.
void
CheckReplaySource(const ScenarioConfig& c)
{
    const std::string& dir = c.training.replay;
    if (c.schedule.kind != "sequential" && c.schedule.kind != "splitfed_v1")
    {
        Fail("training.replay", "the " + c.schedule.kind +
                                    " schedule trains in arrival order, so its results depend on "
                                    "the network; replay needs sequential or splitfed_v1");
    }
    for (const char* file : {"manifest.json", "steps.csv", "eval.csv"})
    {
        const std::string path = dir + "/" + file;
        if (!PathExists(path))
        {
            Fail("training.replay", path + ": not found (expected the folder of a finished "
                                           "`slsim run`)");
        }
    }
    Json manifest;
    try
    {
        manifest = ReadJsonFile(dir + "/manifest.json");
    }
    catch (const InputError& e)
    {
        Fail("training.replay", e.what());
    }
    if (!manifest.is_object() || !manifest.contains("scenario") ||
        !manifest["scenario"].is_object())
    {
        Fail("training.replay", dir + "/manifest.json: no \"scenario\" object");
    }
    const Json dropouts = ValueAt(manifest, "summary.dropouts");
    if (dropouts.is_number() && dropouts.get<double>() > 0)
    {
        Fail("training.replay", dir + "/manifest.json: the reference run had " + dropouts.dump() +
                                    " device time-outs; its training is not a full one");
    }
    // What the training depends on. Left out: the network and devices' link/compute values
    // (the point of a replay), faults, the time budget (a replay may stop earlier; it fails if it
    // needs a step the reference did not run), model.threads (speed only) and dataset.path
    // (where the same files live on this machine).
    const Json here = ScenarioToJson(c);
    const Json& there = manifest["scenario"];
    const std::set<std::string> skip = {"training.replay", "training.time_budget_s",
                                        "model.threads", "dataset.path"};
    for (const char* key : {"seed", "dataset", "partition", "model", "optimizer", "codec",
                            "training", "schedule", "devices.count"})
    {
        std::pair<Json, Json> values;
        const std::string diff =
            FirstDifference(ValueAt(here, key), ValueAt(there, key), key, skip, values);
        if (!diff.empty())
        {
            Fail("training.replay", diff + " differs from the reference's (" +
                                        Describe(values.second) + " in " + dir +
                                        "/manifest.json, " + Describe(values.first) +
                                        " here); a replay needs the same training");
        }
    }
}

} // namespace

void
SetPath(Json& doc, const std::string& path, const Json& value)
{
    const std::string what = "--set " + path;
    const auto steps = ParsePath(path, what);
    Json* cur = &doc;
    std::string walked;
    for (const PathStep& s : steps)
    {
        if (s.isIndex)
        {
            if (!cur->is_array())
            {
                throw InputError(what + ": " + (walked.empty() ? "(top level)" : walked)
                                 + " is not an array");
            }
            if (s.index > cur->size())
            {
                throw InputError(what + ": index " + std::to_string(s.index)
                                 + " is past the end of " + walked + " ("
                                 + std::to_string(cur->size()) + " elements)");
            }
            if (s.index == cur->size())
            {
                cur->push_back(Json());
            }
            cur = &(*cur)[s.index];
            walked = IndexPath(walked, s.index);
        }
        else
        {
            if (cur->is_null())
            {
                *cur = Json::object();
            }
            if (!cur->is_object())
            {
                throw InputError(what + ": " + (walked.empty() ? "(top level)" : walked)
                                 + " is not an object");
            }
            cur = &(*cur)[s.key];
            walked = JoinPath(walked, s.key);
        }
    }
    *cur = value;
}

void
ApplyOverride(Json& doc, const std::string& assignment)
{
    const size_t eq = assignment.find('=');
    if (eq == std::string::npos)
    {
        throw InputError("--set " + assignment + ": expected key.path=value");
    }
    const std::string path = assignment.substr(0, eq);
    const std::string text = assignment.substr(eq + 1);
    Json value;
    try
    {
        value = Json::parse(text);
    }
    catch (const Json::parse_error&)
    {
        value = text; // not JSON: a plain string (method=ms)
    }
    SetPath(doc, path, value);
}

std::string
DirectoryOf(const std::string& path)
{
    const size_t slash = path.find_last_of('/');
    if (slash == std::string::npos)
    {
        return ".";
    }
    return slash == 0 ? "/" : path.substr(0, slash);
}

ScenarioConfig
LoadScenario(const Json& doc, const std::string& baseDir)
{
    ScenarioConfig c;
    ObjectReader top(doc, "");
    top.Allow("$schema");
    if (const Json* d = top.Find("description"))
    {
        AsString(*d, "description");
    }
    top.String("name", c.name);
    if (c.name.empty())
    {
        Fail("name", "must not be empty");
    }
    top.Unsigned("seed", c.seed);
    ReadDataset(top, c);
    ReadPartition(top, c);
    ReadModel(top, c);
    bool epochsGiven = false;
    ReadTraining(top, c, epochsGiven);
    ReadOptimizer(top, c, epochsGiven);
    ReadCodecs(top, c);
    ReadNetwork(top, c);
    const Json* devices = top.Find("devices");
    if (!devices)
    {
        Fail("devices", "missing (e.g. {\"count\": 3})");
    }
    c.network.devices = ResolveDevices(*devices, "devices", c.seed, baseDir);
    ReadSchedule(top, c);
    ReadFaults(top, c);
    top.Bool("record_frames", c.recordFrames);
    top.Finish();

    // The data must be there before anything runs (the readers check the files themselves).
    if (c.dataset.name != "synthetic")
    {
        const std::string folder
            = c.dataset.path.empty() ? "data/" + c.dataset.name : c.dataset.path;
        if (!PathExists(folder))
        {
            Fail("dataset.path", "folder " + folder
                                     + " not found (relative to the working "
                                       "directory); run scripts/fetch-data "
                                     + c.dataset.name);
        }
    }
    // Combinations across sections.
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
    if (!c.training.replay.empty())
    {
        CheckReplaySource(c);
    }
    return c;
}

ScenarioConfig
LoadScenarioFile(const std::string& path, const std::vector<std::string>& overrides,
                 Json* resolvedDoc)
{
    Json doc = ReadJsonFile(path);
    for (const auto& o : overrides)
    {
        ApplyOverride(doc, o);
    }
    try
    {
        ScenarioConfig c = LoadScenario(doc, DirectoryOf(path));
        if (resolvedDoc)
        {
            *resolvedDoc = std::move(doc);
        }
        return c;
    }
    catch (const InputError& e)
    {
        throw InputError(path + ": " + e.what());
    }
}

Json
ScenarioToJson(const ScenarioConfig& c)
{
    Json j = Json::object();
    j["name"] = c.name;
    j["seed"] = c.seed;
    const DatasetConfig& d = c.dataset;
    Json ds = {{"name", d.name},
               {"path", d.path},
               {"mean", d.mean},
               {"std", d.std},
               {"augment", d.augment},
               {"train_subset", d.trainSubset},
               {"test_subset", d.testSubset},
               {"subset_random", d.subsetRandom}};
    if (d.name == "synthetic")
    {
        ds["synthetic"] = {{"train", d.syntheticTrain},
                           {"test", d.syntheticTest},
                           {"classes", d.syntheticClasses},
                           {"shape", d.syntheticShape.dims}};
    }
    j["dataset"] = ds;
    j["partition"] = {{"kind", PartitionKindName(c.partition.kind)},
                      {"alpha", c.partition.alpha},
                      {"shards_per_device", c.partition.shardsPerDevice}};
    const ModelConfig& m = c.model;
    Json mj = {{"name", m.name}, {"width", m.width}, {"cut", m.cut}};
    if (m.name == "mlp")
    {
        mj["hidden"] = m.hidden;
    }
    mj["threads"] = m.threads;
    j["model"] = mj;
    j["training"] = {{"batch_size", c.training.batchSize},
                     {"epochs", c.training.epochs},
                     {"time_budget_s", c.training.timeBudgetS},
                     {"eval_every_rounds", c.training.evalEveryRounds},
                     {"compress_eval", c.training.compressEval},
                     {"target_accuracy", c.training.targetAccuracy},
                     {"eval_batch", c.training.evalBatch}};
    if (!c.training.replay.empty())
    {
        j["training"]["replay"] = c.training.replay;
    }
    const OptimizerConfig& o = c.optimizer;
    Json oj = {{"name", o.name},
               {"lr", o.lr},
               {"momentum", o.momentum},
               {"weight_decay", o.weightDecay},
               {"nesterov", o.nesterov}};
    if (o.name == "adam")
    {
        oj["beta1"] = o.beta1;
        oj["beta2"] = o.beta2;
        oj["eps"] = o.eps;
    }
    oj["schedule"] = o.schedule;
    oj["step_epochs"] = o.stepEpochs;
    if (o.schedule == "multistep")
    {
        oj["milestones"] = o.milestones;
    }
    oj["gamma"] = o.gamma;
    oj["total_epochs"] = o.totalEpochs;
    j["optimizer"] = oj;
    j["codec"] = {{"uplink", CodecToJson(c.uplink)},
                  {"downlink", CodecToJson(c.downlink)},
                  {"sync", CodecToJson(c.sync)}};
    const NetworkConfig& n = c.network;
    j["network"] = {{"bottleneck_mbps", n.bottleneckMbps},
                    {"bottleneck_delay_ms", n.bottleneckDelayMs},
                    {"server_gflops", n.serverGflops},
                    {"server_workers", n.serverWorkers},
                    {"tcp",
                     {{"profile", n.tcp.profile},
                      {"variant", n.tcp.variant},
                      {"segment_bytes", n.tcp.segmentBytes},
                      {"send_buffer_bytes", n.tcp.sendBufferBytes},
                      {"receive_buffer_bytes", n.tcp.receiveBufferBytes},
                      {"queue_packets", n.tcp.queuePackets},
                      {"queue_bytes", n.tcp.queueBytes},
                      {"queue_bdp_factor", n.tcp.queueBdpFactor},
                      {"queue_disc", n.tcp.queueDisc},
                      {"aqm", n.tcp.aqm},
                      {"delayed_ack_count", n.tcp.delayedAckCount},
                      {"delayed_ack_timeout_ms", n.tcp.delayedAckTimeoutMs},
                      {"sack", n.tcp.sack},
                      {"window_scaling", n.tcp.windowScaling},
                      {"timestamps", n.tcp.timestamps},
                      {"min_rto_ms", n.tcp.minRtoMs},
                      {"clock_granularity_ms", n.tcp.clockGranularityMs},
                      {"initial_cwnd_segments", n.tcp.initialCwndSegments}}}};
    Json list = Json::array();
    for (const auto& dev : n.devices)
    {
        list.push_back(DeviceToJson(dev));
    }
    j["devices"] = {{"count", n.devices.size()}, {"list", list}};
    j["schedule"] = {{"kind", c.schedule.kind}, {"sync_every_steps", c.schedule.syncEverySteps}};
    Json outages = Json::array();
    for (const auto& out : c.faults.outages)
    {
        Json oo = {{"device", out.device}, {"from_s", out.fromS}};
        oo["until_s"] = std::isinf(out.untilS) ? Json() : Json(out.untilS);
        outages.push_back(oo);
    }
    j["faults"] = {{"timeout_s", c.faults.timeoutS}, {"outages", outages}};
    j["record_frames"] = c.recordFrames;
    return j;
}

} // namespace slsim
