// Tests of `slsim probe` (app/probe.h): CSV layout and row counts, the "none" control is exact on
// a model with BN and dropout, MS beats top-k at equal budget on post-ReLU activations,
// determinism, bad options. They run SLSIM_BINARY_DIR/slsim as a child process on synthetic data.
#include "app/fs-util.h"
#include "app/probe.h"
#include "common/aligned-vector.h"
#include "models/split-model.h"
#include "tests/test-support.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

using namespace slsim;
using namespace slsim::test;

namespace
{

const std::string SLSIM = SLSIM_BINARY_DIR "/slsim";
const std::string SRC = SLSIM_SOURCE_DIR;

/// vgg11_bn (BN everywhere, dropout in the classifier) at width 1/16 on synthetic 3x32x32 data.
std::string
VggScenario()
{
    const std::string path = TempDir() + "/vgg.json";
    if (!PathExists(path))
    {
        std::ofstream(path) << R"({
  "name": "probe-vgg",
  "seed": 5,
  "dataset": {"name": "synthetic",
              "synthetic": {"train": 64, "test": 16, "classes": 4, "shape": [3, 32, 32]}},
  "model": {"name": "vgg11_bn", "width": 0.0625, "cut": "shallow", "threads": 1},
  "optimizer": {"name": "sgd", "lr": 0.02, "schedule": "cosine"},
  "training": {"batch_size": 8, "epochs": 1},
  "devices": {"count": 1}
})";
    }
    return path;
}

using Row = std::map<std::string, std::string>;

std::vector<std::string>
SplitCsvLine(const std::string& line)
{
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string item;
    while (std::getline(ss, item, ','))
    {
        f.push_back(item);
    }
    if (!line.empty() && line.back() == ',')
    {
        f.emplace_back();
    }
    return f;
}

std::vector<Row>
ReadCsv(const std::string& path, std::vector<std::string>* header = nullptr)
{
    std::ifstream in(path);
    REQUIRE(in.good());
    std::string line;
    std::getline(in, line);
    const std::vector<std::string> cols = SplitCsvLine(line);
    if (header)
    {
        *header = cols;
    }
    std::vector<Row> rows;
    while (std::getline(in, line))
    {
        const std::vector<std::string> f = SplitCsvLine(line);
        REQUIRE(f.size() == cols.size());
        Row r;
        for (size_t i = 0; i < cols.size(); ++i)
        {
            r[cols[i]] = f[i];
        }
        rows.push_back(r);
    }
    return rows;
}

double
Num(const Row& r, const std::string& key)
{
    return std::stod(r.at(key));
}

/// Runs the vgg probe once into TempDir()/name (cached per name).
std::string
VggRun(const std::string& name)
{
    const std::string out = TempDir() + "/" + name;
    if (!PathExists(out + "/manifest.json"))
    {
        const Result r = Shell(SLSIM + " probe " + VggScenario() + " --out " + out
                               + " --train-epochs 1 --batches 2 --budgets 2,3,4 --draws 2");
        INFO(r.output);
        REQUIRE(r.rc == 0);
    }
    return out;
}

} // namespace

TEST_CASE("probe codec sets: the paper's equal budget and the grid", "[app][probe]")
{
    const std::vector<ProbeCodec> eq = EqualBudgetCodecs(2.32, 0.1);
    REQUIRE(eq.size() == 4);
    CHECK(eq[0].config.method == "ms");
    CHECK(eq[0].config.bits == 2);
    CHECK(eq[0].config.sparsity == Approx(0.99));
    CHECK(eq[1].config.method == "topk");
    CHECK(eq[1].config.index == "bitmap");
    CHECK(eq[1].config.sparsity == Approx(0.95875));
    CHECK(eq[2].config.method == "randtopk");
    CHECK(eq[2].config.sparsity == Approx(0.95875));
    CHECK(eq[3].config.method == "quantize");
    CHECK(eq[3].config.bits == 3);
    for (const auto& pc : eq)
    {
        CHECK(pc.set == "equal");
        CHECK(pc.budget == 2.32);
    }

    const std::vector<ProbeCodec> grid = GridCodecs(4, 0.1);
    REQUIRE(grid.size() == 6); // quantize, topk, randtopk, ms m = 1, 2, 3
    CHECK(grid[0].config.bits == 4);
    CHECK(grid[1].config.sparsity == Approx(1 - 3.0 / 32));
    for (int m = 1; m <= 3; ++m)
    {
        const CodecConfig& c = grid[static_cast<size_t>(2 + m)].config;
        CHECK(c.method == "ms");
        CHECK(c.bits == m);
        CHECK(c.sparsity == Approx(1 - (4.0 - m) / 32));
        CHECK(NominalBitsPerElement(c) == Approx(4));
    }

    ProbeOptions o;
    o.budgets = {2, 3};
    // none + 4 equal + (3 + 1) at 2 bits + (3 + 2) at 3 bits
    CHECK(ProbeCodecs(o).size() == 14);
}

TEST_CASE("probe writes errors.csv, bias.csv and manifest.json with one row per measurement",
          "[app][probe]")
{
    const std::string out = TempDir() + "/tiny";
    const Result r = Shell(SLSIM + " probe " + SRC + "/tests/app/tiny-scenario.json --out " + out
                           + " --train-epochs 2 --at-epochs 1,2 --batches 3 --budgets 2,3 "
                             "--draws 2 --quiet");
    INFO(r.output);
    REQUIRE(r.rc == 0);
    CHECK(r.output.rfind("slsim probe: tiny: mlp cut shallow", 0) == 0);
    CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1); // --quiet: no progress

    std::vector<std::string> header;
    const std::vector<Row> errors = ReadCsv(out + "/errors.csv", &header);
    CHECK(header
          == std::vector<std::string>{
              "measure_epoch", "cut", "batch_index", "method", "budget_set", "budget_bits", "bits",
              "sparsity", "index", "nominal_bits_per_element", "draws", "encoded_bytes", "elements",
              "bits_per_element", "rel_l2", "abs_l2", "abs_l2_per_sample", "x_l2"});
    const std::vector<Row> bias = ReadCsv(out + "/bias.csv", &header);
    CHECK(header == std::vector<std::string>{"measure_epoch",
                                             "cut",
                                             "batch_index",
                                             "method",
                                             "budget_set",
                                             "budget_bits",
                                             "bits",
                                             "sparsity",
                                             "index",
                                             "nominal_bits_per_element",
                                             "draws",
                                             "loss",
                                             "loss_compressed",
                                             "act_rel_l2",
                                             "g_dev_l2",
                                             "cos_dev",
                                             "cos_dev_mean",
                                             "rel_bias_dev",
                                             "rel_err_dev",
                                             "g_srv_l2",
                                             "cos_srv",
                                             "cos_srv_mean",
                                             "rel_bias_srv",
                                             "rel_err_srv"});
    // 3 measurements (epochs 0, 1, 2) x 3 batches x 14 configurations
    CHECK(errors.size() == 126);
    CHECK(bias.size() == 126);
    std::map<std::string, int> perEpoch;
    for (const Row& row : errors)
    {
        ++perEpoch[row.at("measure_epoch")];
        CHECK(Num(row, "elements") == 16 * 16); // batch 16 x 16 hidden units
        CHECK(row.at("draws") == (row.at("method") == "randtopk" ? "2" : "1"));
        CHECK(Num(row, "rel_l2") >= 0);
    }
    CHECK(perEpoch == std::map<std::string, int>{{"0", 42}, {"1", 42}, {"2", 42}});
    // The loss of the uncompressed pass changes with training, and the epochs share the batches.
    CHECK(bias.front().at("loss") != bias.back().at("loss"));

    const std::string manifest = ReadTextFile(out + "/manifest.json");
    CHECK(manifest.find("\"measure_epochs\"") != std::string::npos);
    CHECK(manifest.find("\"wall_time_s\"") != std::string::npos);
    CHECK(manifest.find("\"scenario\"") != std::string::npos);
    CHECK_FALSE(PathExists(out + "/errors.csv.tmp"));
}

TEST_CASE("the test model's dropout draws a new mask on every pass of one partition",
          "[app][probe]")
{
    // Why the probe replays passes on fresh copies: the same partition run twice on the same
    // input gives different gradients (dropout), so a plain second pass would not isolate the
    // codec. (vgg11_bn at width 1/16, as in the tests below.)
    ModelConfig m;
    m.name = "vgg11_bn";
    m.width = 0.0625;
    m.input = Shape{3, 32, 32};
    m.classes = 4;
    m.threads = 1;
    SplitModel split = BuildSplitModel(m, OptimizerConfig{}, 7);
    CHECK(split.device->Summary().find("BatchNorm") != std::string::npos);
    CHECK(split.server->Summary().find("Dropout") != std::string::npos);
    const int batch = 4;
    AlignedVector<float> x(static_cast<size_t>(batch * split.server->InputShape().Numel()));
    for (size_t i = 0; i < x.size(); ++i)
    {
        x[i] = static_cast<float>(std::fmod(0.37 * static_cast<double>(i), 1.0));
    }
    const std::vector<int32_t> labels = {0, 1, 2, 3};
    AlignedVector<float> grad(batch * 4);
    std::vector<std::vector<float>> g;
    for (int pass = 0; pass < 2; ++pass)
    {
        const float* logits = split.server->Forward(x.data(), batch, true);
        SoftmaxCrossEntropy(logits, labels.data(), batch, 4, grad.data());
        split.server->Backward(grad.data());
        g.emplace_back(split.server->Gradients(),
                       split.server->Gradients() + split.server->ParameterCount());
    }
    CHECK(g[0] != g[1]);
}

TEST_CASE("probe: the codec none is exact on a model with BN and dropout", "[app][probe]")
{
    const std::string out = VggRun("vgg-a");
    const std::vector<Row> errors = ReadCsv(out + "/errors.csv");
    const std::vector<Row> bias = ReadCsv(out + "/bias.csv");
    int none = 0, compressed = 0;
    for (const Row& r : errors)
    {
        if (r.at("method") == "none")
        {
            CHECK(r.at("rel_l2") == "0");
            CHECK(r.at("abs_l2") == "0");
            CHECK(r.at("abs_l2_per_sample") == "0");
        }
    }
    for (const Row& r : bias)
    {
        if (r.at("method") == "none")
        {
            ++none;
            for (const char* key : {"cos_dev", "cos_dev_mean", "cos_srv", "cos_srv_mean"})
            {
                INFO(key);
                CHECK(r.at(key) == "1");
            }
            for (const char* key :
                 {"rel_bias_dev", "rel_bias_srv", "rel_err_dev", "rel_err_srv", "act_rel_l2"})
            {
                INFO(key);
                CHECK(r.at(key) == "0");
            }
            CHECK(r.at("loss") == r.at("loss_compressed"));
            CHECK(Num(r, "g_dev_l2") > 0);
            CHECK(Num(r, "g_srv_l2") > 0);
        }
        else
        {
            ++compressed;
            // The measurement sees the codec: every lossy configuration moves the gradients.
            CHECK(Num(r, "rel_bias_dev") > 0);
            CHECK(Num(r, "rel_bias_srv") > 0);
            CHECK(Num(r, "cos_srv") < 1);
        }
    }
    CHECK(none == 4); // 2 measurements x 2 batches
    CHECK(compressed > 0);
}

TEST_CASE("probe: MS has a lower error than top-k at equal budget on post-ReLU activations",
          "[app][probe]")
{
    // vgg11_bn's shallow cut is conv-BN-ReLU-maxpool: non-negative activations.
    const std::string out = VggRun("vgg-a");
    std::map<std::string, double> best; // key: epoch/batch/set/budget/method -> least rel_l2
    for (const Row& r : ReadCsv(out + "/errors.csv"))
    {
        if (r.at("method") == "ms" && r.at("bits") == "1")
        {
            continue; // 1-bit codes have no level but the reserved one: MS is top-k then
        }
        const std::string key = r.at("measure_epoch") + "/" + r.at("batch_index") + "/"
                                + r.at("budget_set") + "/" + r.at("budget_bits") + "/"
                                + r.at("method");
        const double e = Num(r, "rel_l2");
        best[key] = best.count(key) ? std::min(best[key], e) : e;
    }
    int compared = 0;
    for (const auto& [key, e] : best)
    {
        const size_t slash = key.rfind('/');
        if (key.substr(slash + 1) != "ms")
        {
            continue;
        }
        const std::string prefix = key.substr(0, slash + 1);
        INFO(prefix);
        CHECK(e < best.at(prefix + "topk"));
        CHECK(e < best.at(prefix + "randtopk"));
        ++compared;
    }
    CHECK(compared == 2 * 2 * 3); // 2 epochs x 2 batches x (2.32, 3, 4 bits)
}

TEST_CASE("probe: a progress line per trained epoch and per measured batch, then the summary")
{
    const Result r
        = Shell(SLSIM + " probe " + SRC + "/tests/app/tiny-scenario.json --out " + TempDir()
                + "/tiny-progress --train-epochs 2 --at-epochs 2 "
                  "--batches 2 --budgets 2 --draws 1");
    INFO(r.output);
    REQUIRE(r.rc == 0);
    std::vector<std::string> lines;
    std::istringstream in(r.output);
    for (std::string line; std::getline(in, line);)
    {
        lines.push_back(line);
    }
    // epoch 0 measured (2 batches), 2 epochs trained, epoch 2 measured (2 batches), the summary
    REQUIRE(lines.size() == 7);
    const std::regex measured(
        R"(slsim probe: measured epoch [02] batch [12]/2 \(\d+ codecs\) wall \d+\.\d s)");
    const std::regex trained(
        R"(slsim probe: trained epoch [12]/2 loss \d+\.\d{4} wall \d+\.\d s eta training \d+\.\d s)");
    for (size_t i : {0, 1, 4, 5})
    {
        CHECK(std::regex_match(lines[i], measured));
    }
    CHECK(std::regex_match(lines[2], trained));
    CHECK(std::regex_match(lines[3], trained));
    CHECK(lines[0].find("epoch 0 batch 1/2") != std::string::npos);
    CHECK(lines[5].find("epoch 2 batch 2/2") != std::string::npos);
    CHECK(lines[6].rfind("slsim probe: tiny: mlp cut shallow", 0) == 0);
}

TEST_CASE("probe: two runs give byte-identical CSV files", "[app][probe]")
{
    const std::string a = VggRun("vgg-a");
    const std::string b = VggRun("vgg-b");
    CHECK(ReadTextFile(a + "/errors.csv") == ReadTextFile(b + "/errors.csv"));
    CHECK(ReadTextFile(a + "/bias.csv") == ReadTextFile(b + "/bias.csv"));
}

TEST_CASE("probe: bad options and scenarios exit 2 with one line and write nothing", "[app][probe]")
{
    const std::string tiny = SRC + "/tests/app/tiny-scenario.json";
    const std::vector<std::pair<std::string, std::string>> cases = {
        {tiny + " --out OUT --batches 0", "--batches: must be >= 1"},
        {tiny + " --out OUT --draws x", "--draws: expected an integer"},
        {tiny + " --out OUT --budgets 2,x", "--budgets: expected a number"},
        {tiny + " --out OUT --budgets 1.5", "--budgets: each budget must be 2..16"},
        {tiny + " --out OUT --at-epochs 3 --train-epochs 2", "--at-epochs: each epoch"},
        {tiny + " --out OUT --train-epochs -1", "--train-epochs: must be"},
        {tiny + " --out OUT --bogus", "unknown option --bogus"},
        {tiny + " --out OUT --batches 20", "--batches: 20 batches of 16 need 320"},
        {tiny, "missing --out"},
        {tiny + " --out OUT --set model.name=nope", "model.name"},
        {"/nonexistent.json --out OUT", "nonexistent.json"},
    };
    int i = 0;
    for (const auto& [args, message] : cases)
    {
        const std::string out = TempDir() + "/bad-" + std::to_string(i++);
        std::string cmd = args;
        const size_t pos = cmd.find("OUT");
        if (pos != std::string::npos)
        {
            cmd.replace(pos, 3, out);
        }
        const Result r = Shell(SLSIM + " probe " + cmd);
        INFO(cmd << "\n" << r.output);
        CHECK(r.rc == 2);
        CHECK(r.output.find(message) != std::string::npos);
        CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
        CHECK_FALSE(PathExists(out + "/errors.csv"));
        CHECK_FALSE(PathExists(out + "/manifest.json"));
    }
}
