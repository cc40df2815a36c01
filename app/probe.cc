#include "app/probe.h"

#include "common/aligned-vector.h"
#include "common/csv-writer.h"
#include "common/error.h"
#include "common/rng.h"
#include "compression/codec.h"
#include "models/data/dataset.h"
#include "models/split-model.h"
#include "sim/device-side.h"
#include "sim/server-side.h"
#include "sim/split-pass.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <numeric>
#include <ostream>
#include <sstream>
#include <stdexcept>

namespace slsim
{

namespace
{

// A progress line's number: `digits` decimals.
std::string
Fixed(double v, int digits)
{
    std::ostringstream o;
    o << std::fixed << std::setprecision(digits) << v;
    return o.str();
}

ProbeCodec
Make(const std::string& method, double budget, const std::string& set, double randtopkA,
     int bits = 0)
{
    CodecConfig c;
    c.method = method;
    c.randtopkA = randtopkA;
    if (method == "topk" || method == "randtopk")
    {
        c.index = "bitmap";
    }
    if (bits > 0)
    {
        c.bits = bits;
    }
    if (method != "quantize" || bits == 0)
    {
        c.budgetBitsPerElement = budget;
    }
    return ProbeCodec{ResolveBudget(c), set, budget};
}

bool
Randomised(const CodecConfig& c)
{
    return c.method == "randtopk" || (c.method == "quantize" && c.stochastic);
}

/// Sum of a[i] * b[i] in double, for float or double vectors (mixed allowed).
template <typename A, typename B>
double
Dot(const A* a, const B* b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; ++i)
    {
        s += static_cast<double>(a[i]) * static_cast<double>(b[i]);
    }
    return s;
}

/// dot / sqrt(|a|^2 |b|^2): exactly 1 for identical vectors (sqrt(fl(s*s)) == s in IEEE
/// arithmetic), NaN when either is zero.
double
Cosine(double dot, double aa, double bb)
{
    if (aa == 0 || bb == 0)
    {
        return std::nan("");
    }
    return std::max(-1.0, std::min(1.0, dot / std::sqrt(aa * bb)));
}

/// The fixed part of every pass: data, trained state, scratch.
struct PassResult
{
    double loss = 0;
    double actRelL2 = 0;           // ||x - decode(encode(x))|| / ||x||
    std::vector<float> gDev, gSrv; // parameter gradients of the device and server partitions
};

class PassRunner
{
  public:
    PassRunner(const ModelConfig& model, const OptimizerConfig& opt)
        : m_model(model),
          m_opt(opt)
    {
    }

    void SetState(const Partition& device, const Partition& server)
    {
        m_devState.resize(device.StateSize());
        device.GetState(m_devState.data());
        m_srvState.resize(server.StateSize());
        server.GetState(m_srvState.data());
    }

    /// One forward/backward pass on a fresh copy (dropout streams from `passSeed`), with the cut
    /// activations replaced by decode(encode(x)) when codec is given. Writes x (the device output)
    /// if asked.
    void Run(uint64_t passSeed, const float* input, const int32_t* labels, int batch, Codec* codec,
             Rng* codecRng, PassResult& r, std::vector<float>* x)
    {
        SplitModel m = BuildSplitModel(m_model, m_opt, passSeed);
        m.device->SetState(m_devState.data());
        m.server->SetState(m_srvState.data());
        m.device->SetInputGradientNeeded(false);
        // The split pass of sim/split-pass.h as the training sides run it, without optimizer steps.
        const float* act = m.device->Forward(input, batch, true);
        const Shape cut = CutShape(*m.device, batch);
        const size_t n = static_cast<size_t>(cut.Numel());
        if (x)
        {
            x->assign(act, act + n);
        }
        if (codec)
        {
            r.actRelL2 = CodecRoundTrip(*codec, act, cut, *codecRng, m_blob, m_decoded);
            m_serverInput.assign(m_decoded.begin(), m_decoded.end());
        }
        else
        {
            m_serverInput.assign(act, act + n);
            r.actRelL2 = 0;
        }
        const float* cutGrad = nullptr;
        r.loss = ServerForwardBackward(*m.server, m_serverInput.data(), labels, batch, m_logitGrad,
                                       cutGrad)
                     .loss;
        const float* gs = m.server->Gradients();
        r.gSrv.assign(gs, gs + m.server->ParameterCount());
        m.device->Backward(cutGrad); // straight through the codec
        const float* gd = m.device->Gradients();
        r.gDev.assign(gd, gd + m.device->ParameterCount());
    }

  private:
    ModelConfig m_model;
    OptimizerConfig m_opt;
    std::vector<float> m_devState, m_srvState;
    std::vector<uint8_t> m_blob;
    std::vector<float> m_decoded;
    AlignedVector<float> m_serverInput, m_logitGrad;
};

/// Mean-over-draws statistics of one gradient vector against its reference.
struct GradStats
{
    const std::vector<float>* ref = nullptr;
    std::vector<double> sum; // sum of the draws
    double cosSum = 0, relErrSum = 0, refSq = 0;
    int draws = 0;

    void Start(const std::vector<float>& reference)
    {
        ref = &reference;
        sum.assign(reference.size(), 0.0);
        cosSum = relErrSum = 0;
        draws = 0;
        refSq = Dot(reference.data(), reference.data(), reference.size());
    }

    void Add(const std::vector<float>& g)
    {
        SLSIM_ASSERT(g.size() == ref->size());
        double err = 0;
        for (size_t i = 0; i < g.size(); ++i)
        {
            sum[i] += g[i];
            const double d = static_cast<double>(g[i]) - static_cast<double>((*ref)[i]);
            err += d * d;
        }
        cosSum += Cosine(Dot(g.data(), ref->data(), g.size()), Dot(g.data(), g.data(), g.size()),
                         refSq);
        relErrSum += std::sqrt(err) / std::sqrt(refSq);
        ++draws;
    }

    /// cos(E[g^], g), ||E[g^] - g|| / ||g||
    void Mean(double& cosMean, double& relBias) const
    {
        std::vector<double> mean(sum.size());
        double bias = 0;
        for (size_t i = 0; i < sum.size(); ++i)
        {
            mean[i] = sum[i] / draws;
            const double d = mean[i] - static_cast<double>((*ref)[i]);
            bias += d * d;
        }
        cosMean = Cosine(Dot(mean.data(), ref->data(), mean.size()),
                         Dot(mean.data(), mean.data(), mean.size()), refSq);
        relBias = std::sqrt(bias) / std::sqrt(refSq);
    }
};

const std::vector<std::string> CONFIG_COLUMNS
    = {"measure_epoch", "cut",  "batch_index", "method", "budget_set",
       "budget_bits",   "bits", "sparsity",    "index",  "nominal_bits_per_element",
       "draws"};

void
AddConfig(CsvWriter& w, int epoch, const std::string& cut, int batch, const ProbeCodec& pc,
          int draws)
{
    const CodecConfig& c = pc.config;
    w.Add(epoch).Add(cut).Add(batch).Add(c.method).Add(pc.set).Add(pc.budget);
    if (c.method == "quantize" || c.method == "ms")
    {
        w.Add(c.bits);
    }
    else
    {
        w.Add("");
    }
    if (c.method == "topk" || c.method == "randtopk" || c.method == "ms")
    {
        w.Add(c.sparsity);
    }
    else
    {
        w.Add("");
    }
    w.Add(c.method == "topk" || c.method == "randtopk" ? c.index : std::string());
    w.Add(NominalBitsPerElement(c)).Add(draws);
}

std::vector<std::string>
Columns(std::vector<std::string> extra)
{
    std::vector<std::string> c = CONFIG_COLUMNS;
    c.insert(c.end(), extra.begin(), extra.end());
    return c;
}

uint64_t
Key(int epoch, int batch)
{
    return (static_cast<uint64_t>(epoch) << 32) | static_cast<uint64_t>(batch);
}

} // namespace

std::vector<ProbeCodec>
GridCodecs(double budget, double randtopkA)
{
    std::vector<ProbeCodec> v;
    v.push_back(Make("quantize", budget, "grid", randtopkA));
    v.push_back(Make("topk", budget, "grid", randtopkA));
    v.push_back(Make("randtopk", budget, "grid", randtopkA));
    const int maxBits = static_cast<int>(std::ceil(budget - 1e-9)) - 1;
    for (int m = 1; m <= std::min(8, maxBits); ++m)
    {
        v.push_back(Make("ms", budget, "grid", randtopkA, m));
    }
    return v;
}

std::vector<ProbeCodec>
EqualBudgetCodecs(double budget, double randtopkA)
{
    std::vector<ProbeCodec> v;
    v.push_back(Make("ms", budget, "equal", randtopkA, 2));
    v.push_back(Make("topk", budget, "equal", randtopkA));
    v.push_back(Make("randtopk", budget, "equal", randtopkA));
    // Uniform quantisation has whole bits only: the smallest width that reaches the budget.
    v.push_back(Make("quantize", budget, "equal", randtopkA,
                     std::min(16, static_cast<int>(std::ceil(budget - 1e-9)))));
    return v;
}

std::vector<ProbeCodec>
ProbeCodecs(const ProbeOptions& o)
{
    std::vector<ProbeCodec> v;
    v.push_back(ProbeCodec{CodecConfig{}, "control", 32});
    if (o.equalBudget > 0)
    {
        const auto e = EqualBudgetCodecs(o.equalBudget, o.randtopkA);
        v.insert(v.end(), e.begin(), e.end());
    }
    for (double b : o.budgets)
    {
        const auto g = GridCodecs(b, o.randtopkA);
        v.insert(v.end(), g.begin(), g.end());
    }
    return v;
}

void
ValidateProbeOptions(const ProbeOptions& o)
{
    if (o.trainEpochs < 0 || o.trainEpochs > 100000)
    {
        throw InputError("--train-epochs: must be 0..100000, got " + std::to_string(o.trainEpochs));
    }
    for (int e : o.atEpochs)
    {
        if (e < 1 || e > o.trainEpochs)
        {
            throw InputError("--at-epochs: each epoch must be 1..--train-epochs ("
                             + std::to_string(o.trainEpochs) + "), got " + std::to_string(e)
                             + " (epoch 0 is always measured)");
        }
    }
    if (o.batches < 1 || o.batches > 100000)
    {
        throw InputError("--batches: must be >= 1, got " + std::to_string(o.batches));
    }
    if (o.draws < 1 || o.draws > 100000)
    {
        throw InputError("--draws: must be >= 1, got " + std::to_string(o.draws));
    }
    if (o.budgets.empty() && o.equalBudget <= 0)
    {
        throw InputError("--budgets: nothing to measure (empty list and --equal-budget 0)");
    }
    for (double b : o.budgets)
    {
        if (!(b >= 2 && b <= 16))
        {
            throw InputError("--budgets: each budget must be 2..16 bits per element, got "
                             + FormatDouble(b));
        }
    }
    if (o.equalBudget != 0 && !(o.equalBudget >= 2 && o.equalBudget <= 16))
    {
        throw InputError("--equal-budget: must be 0 (off) or 2..16 bits per element, got "
                         + FormatDouble(o.equalBudget));
    }
    if (!(o.randtopkA >= 0 && o.randtopkA <= 1))
    {
        throw InputError("--randtopk-a: must be 0..1, got " + FormatDouble(o.randtopkA));
    }
    ProbeCodecs(o); // every configuration resolves (throws InputError otherwise)
}

ProbeSummary
RunProbe(const ScenarioConfig& config, const ProbeOptions& options, const std::string& outDir)
{
    ValidateProbeOptions(options);
    SetThreadCount(config.model.threads);
    // Central, uncompressed training: sim's training sides with the identity codec both ways
    // (exact floats).
    auto data = std::make_shared<TrainingData>();
    data->uplink = MakeCodec(CodecConfig{});
    data->downlink = MakeCodec(CodecConfig{});
    data->sync = MakeCodec(config.sync);
    data->train = LoadDataset(config.dataset, true, config.seed);
    data->trainBatches = std::make_unique<BatchMaker>(data->train, config.dataset);
    const Dataset& train = data->train;
    const BatchMaker& maker = *data->trainBatches;
    const int bs = config.training.batchSize;
    const size_t needed = static_cast<size_t>(options.batches) * static_cast<size_t>(bs);
    if (needed > train.Size())
    {
        throw InputError("--batches: " + std::to_string(options.batches) + " batches of "
                         + std::to_string(bs) + " need " + std::to_string(needed)
                         + " training samples, the training set has "
                         + std::to_string(train.Size()));
    }

    ModelConfig model = config.model;
    model.input = train.SampleShape();
    model.classes = train.classes;
    // One device holding the whole training set (with device 0's shuffle and augment streams)
    // and one server copy.
    std::vector<uint32_t> all(train.Size());
    std::iota(all.begin(), all.end(), 0u);
    SplitModel split = BuildSplitModel(model, config.optimizer, config.seed);
    TrainingDevice device(config, 0, data, std::move(all), std::move(split.device), nullptr);
    std::vector<std::unique_ptr<Partition>> copies;
    copies.push_back(std::move(split.server));
    TrainingServer server(config, data, std::move(copies),
                          BuildSplitModel(model, config.optimizer, config.seed).device, &device,
                          nullptr);
    const int64_t perSample = device.Model().InputShape().Numel();

    // The fixed measurement batches: a seeded sample of the training set, no augmentation.
    std::vector<uint32_t> order(train.Size());
    std::iota(order.begin(), order.end(), 0u);
    Rng batchRng(config.seed, "probe-batches");
    batchRng.Shuffle(order);
    AlignedVector<float> probeInput(needed * static_cast<size_t>(perSample));
    std::vector<int32_t> probeLabels(needed);
    Rng noAugment(0, "unused");
    maker.Make(order.data(), needed, false, noAugment, probeInput.data(), probeLabels.data());

    std::vector<int> measureAt = {0};
    if (options.atEpochs.empty())
    {
        if (options.trainEpochs > 0)
        {
            measureAt.push_back(options.trainEpochs);
        }
    }
    else
    {
        measureAt.insert(measureAt.end(), options.atEpochs.begin(), options.atEpochs.end());
    }
    std::sort(measureAt.begin(), measureAt.end());
    measureAt.erase(std::unique(measureAt.begin(), measureAt.end()), measureAt.end());

    const std::vector<ProbeCodec> codecs = ProbeCodecs(options);
    std::vector<std::unique_ptr<Codec>> codecObjs;
    for (const auto& pc : codecs)
    {
        codecObjs.push_back(MakeCodec(pc.config));
    }

    CsvWriter errors(outDir + "/errors.csv",
                     Columns({"encoded_bytes", "elements", "bits_per_element", "rel_l2", "abs_l2",
                              "abs_l2_per_sample", "x_l2"}));
    CsvWriter bias(outDir + "/bias.csv",
                   Columns({"loss", "loss_compressed", "act_rel_l2", "g_dev_l2", "cos_dev",
                            "cos_dev_mean", "rel_bias_dev", "rel_err_dev", "g_srv_l2", "cos_srv",
                            "cos_srv_mean", "rel_bias_srv", "rel_err_srv"}));

    ProbeSummary summary;
    summary.measureEpochs = measureAt;
    PassRunner runner(model, config.optimizer);
    std::chrono::duration<double> measureWall{0}, trainWall{0};

    const auto start = std::chrono::steady_clock::now();
    auto wallS = [&start] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    auto measure = [&](int epoch) {
        const auto m0 = std::chrono::steady_clock::now();
        runner.SetState(device.Model(), server.Copy(0));
        PassResult ref, pass;
        std::vector<float> x, decoded;
        std::vector<uint8_t> blob;
        for (int b = 0; b < options.batches; ++b)
        {
            const float* input = probeInput.data()
                                 + static_cast<size_t>(b) * static_cast<size_t>(bs)
                                       * static_cast<size_t>(perSample);
            const int32_t* labels
                = probeLabels.data() + static_cast<size_t>(b) * static_cast<size_t>(bs);
            const uint64_t passSeed = Rng(config.seed, "probe-dropout", Key(epoch, b)).NextU64();
            runner.Run(passSeed, input, labels, bs, nullptr, nullptr, ref, &x);
            const size_t n = x.size();
            const size_t per = n / static_cast<size_t>(bs);
            Shape shape = device.Model().OutputShape();
            shape.dims.insert(shape.dims.begin(), static_cast<int64_t>(bs));
            const double xl2 = std::sqrt(Dot(x.data(), x.data(), n));

            // a. compression error of the cut activations
            Rng errRng(config.seed, "probe-codec-error", Key(epoch, b));
            for (size_t ci = 0; ci < codecs.size(); ++ci)
            {
                Codec& codec = *codecObjs[ci];
                const int draws = Randomised(codecs[ci].config) ? options.draws : 1;
                double rel = 0, abs = 0, perSampleErr = 0;
                for (int d = 0; d < draws; ++d)
                {
                    codec.Encode(x.data(), shape, blob, errRng);
                    codec.Decode(blob.data(), blob.size(), decoded);
                    rel += RelativeL2Error(x.data(), decoded.data(), n);
                    abs += L2Error(x.data(), decoded.data(), n);
                    double s = 0;
                    for (int i = 0; i < bs; ++i)
                    {
                        s += L2Error(x.data() + static_cast<size_t>(i) * per,
                                     decoded.data() + static_cast<size_t>(i) * per, per);
                    }
                    perSampleErr += s / bs;
                }
                AddConfig(errors, epoch, config.model.cut, b, codecs[ci], draws);
                errors.Add(static_cast<uint64_t>(blob.size()))
                    .Add(static_cast<uint64_t>(n))
                    .Add(8.0 * static_cast<double>(blob.size()) / static_cast<double>(n))
                    .Add(rel / draws)
                    .Add(abs / draws)
                    .Add(perSampleErr / draws)
                    .Add(xl2);
                errors.EndRow();
                ++summary.errorRows;
            }

            // b. gradient bias
            Rng biasRng(config.seed, "probe-codec-bias", Key(epoch, b));
            GradStats dev, srv;
            std::vector<float> xc;
            for (size_t ci = 0; ci < codecs.size(); ++ci)
            {
                const int draws = Randomised(codecs[ci].config) ? options.draws : 1;
                dev.Start(ref.gDev);
                srv.Start(ref.gSrv);
                double lossC = 0, actErr = 0;
                for (int d = 0; d < draws; ++d)
                {
                    runner.Run(passSeed, input, labels, bs, codecObjs[ci].get(), &biasRng, pass,
                               &xc);
                    // the compressed pass saw the same x as the reference
                    SLSIM_ASSERT(xc == x);
                    dev.Add(pass.gDev);
                    srv.Add(pass.gSrv);
                    lossC += pass.loss;
                    actErr += pass.actRelL2;
                }
                double cosDevMean, relBiasDev, cosSrvMean, relBiasSrv;
                dev.Mean(cosDevMean, relBiasDev);
                srv.Mean(cosSrvMean, relBiasSrv);
                AddConfig(bias, epoch, config.model.cut, b, codecs[ci], draws);
                bias.Add(ref.loss)
                    .Add(lossC / draws)
                    .Add(actErr / draws)
                    .Add(std::sqrt(dev.refSq))
                    .Add(dev.cosSum / draws)
                    .Add(cosDevMean)
                    .Add(relBiasDev)
                    .Add(dev.relErrSum / draws)
                    .Add(std::sqrt(srv.refSq))
                    .Add(srv.cosSum / draws)
                    .Add(cosSrvMean)
                    .Add(relBiasSrv)
                    .Add(srv.relErrSum / draws);
                bias.EndRow();
                ++summary.biasRows;
            }
            if (options.progress != nullptr)
            {
                *options.progress << "slsim probe: measured epoch " << epoch << " batch " << b + 1
                                  << '/' << options.batches << " (" << codecs.size()
                                  << " codecs) wall " << Fixed(wallS(), 1) << " s" << std::endl;
            }
        }
        measureWall += std::chrono::steady_clock::now() - m0;
    };

    std::vector<uint8_t> body, gradient;
    size_t nextMeasure = 0;
    if (measureAt[nextMeasure] == 0)
    {
        measure(0);
        ++nextMeasure;
    }
    for (int e = 0; e < options.trainEpochs; ++e)
    {
        const auto e0 = std::chrono::steady_clock::now();
        device.SetRound(e);
        server.SetRound(e);
        double lossSum = 0;
        try
        {
            for (int step = 0; step < device.StepsPerEpoch(); ++step)
            {
                body.clear();
                device.Forward(body);
                const ServerResult r = server.Step(0, body.data(), body.size(), gradient);
                lossSum += r.loss * static_cast<double>(r.batch);
                device.Backward(gradient.data(), gradient.size());
            }
        }
        catch (const TrainingDiverged& d)
        {
            throw std::runtime_error("training diverged in epoch " + std::to_string(e + 1) + " ("
                                     + d.what() + "); lower optimizer.lr");
        }
        summary.trainLoss.push_back(lossSum / static_cast<double>(train.Size()));
        trainWall += std::chrono::steady_clock::now() - e0;
        if (!std::isfinite(summary.trainLoss.back()))
        {
            throw std::runtime_error("training diverged in epoch " + std::to_string(e + 1)
                                     + " (loss " + FormatDouble(summary.trainLoss.back())
                                     + "); lower optimizer.lr");
        }
        if (options.progress != nullptr)
        {
            const double perEpoch = trainWall.count() / (e + 1);
            *options.progress << "slsim probe: trained epoch " << e + 1 << '/'
                              << options.trainEpochs << " loss "
                              << Fixed(summary.trainLoss.back(), 4) << " wall " << Fixed(wallS(), 1)
                              << " s eta training "
                              << Fixed(perEpoch * (options.trainEpochs - e - 1), 1) << " s"
                              << std::endl;
        }
        if (nextMeasure < measureAt.size() && measureAt[nextMeasure] == e + 1)
        {
            measure(e + 1);
            ++nextMeasure;
        }
    }
    errors.Commit();
    bias.Commit();
    summary.trainWallS = trainWall.count();
    summary.measureWallS = measureWall.count();
    summary.cutShape = device.Model().OutputShape();
    return summary;
}

} // namespace slsim
