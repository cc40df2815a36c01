// U-shaped split learning through the scenario and the CLI: model.head_cut and the second cut's
// codecs are validated with errors naming the key; `slsim validate` shows the head; a run writes
// checkpoints of the three parts under PyTorch names and a manifest describing them (derived:
// server_* the middle, head_* the head), and model.init_from resumes from them.
#include "app/json-reader.h"
#include "common/atomic-file.h"
#include "models/safetensors.h"
#include "models/split-model.h"
#include "tests/test-support.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

using namespace slsim;
using namespace slsim::test;

namespace
{

const std::string SLSIM = SLSIM_BINARY_DIR "/slsim";

/// A small U-shaped scenario: the MLP flatten, fc1, relu | fc2, relu | fc3 on synthetic data.
Json
UScenario()
{
    return Json{{"name", "u"},
                {"seed", 3},
                {"dataset",
                 {{"name", "synthetic"},
                  {"synthetic", {{"train", 64}, {"test", 32}, {"classes", 4}, {"shape", {16}}}}}},
                {"model",
                 {{"name", "mlp"},
                  {"hidden", {12, 8}},
                  {"cut", "shallow"},
                  {"head_cut", "deep"},
                  {"threads", 1}}},
                {"schedule", {{"kind", "sequential"}}},
                {"training", {{"batch_size", 8}, {"epochs", 1}}},
                {"devices", {{"count", 2}}}};
}

std::string
Error(const std::function<void(Json&)>& edit)
{
    Json s = UScenario();
    edit(s);
    return ErrorOf(s);
}

std::string
TensorNames(const std::string& file)
{
    std::string names;
    for (const auto& kv : ReadSafetensors(file))
    {
        names += (names.empty() ? "" : " ") + kv.first;
    }
    return names;
}

} // namespace

TEST_CASE("model.head_cut and the second cut's codecs are validated")
{
    REQUIRE(Error([](Json&) {}).empty());
    REQUIRE(Error([](Json& s) { s["model"]["head_cut"] = 4; }).empty());     // by index
    REQUIRE(Error([](Json& s) { s["model"]["head_cut"] = "fc2"; }).empty()); // by layer name
    REQUIRE(Error([](Json& s) { s["schedule"]["kind"] = "splitfed_v1"; }).empty());
    REQUIRE(Error([](Json& s) {
                s["codec"] = {{"head_downlink", {{"method", "fp16"}}},
                              {"head_uplink", {{"method", "quantize"}, {"bits", 4}}}};
            }).empty());
    REQUIRE(Error([](Json& s) { s["model"]["head_cut"] = "shallow"; })
            == "model.head_cut: 'shallow' ends after layer 3, not after the cut (layer 3): the "
               "server part would have no layers");
    REQUIRE(Error([](Json& s) { s["model"]["head_cut"] = "fc3"; })
            == "model.head_cut: 'fc3' is the last layer: the head would have no layers");
    REQUIRE(Error([](Json& s) { s["model"]["head_cut"] = 6; })
            == "model.head_cut: layer index 6 out of range [1, 5]");
    REQUIRE(Error([](Json& s) { s["model"]["head_cut"] = ""; })
            == "model.head_cut: must name a layer (omit the key for a split without a head)");
    REQUIRE(Error([](Json& s) { s["model"]["head_cut"] = true; }).rfind("model.head_cut: ", 0)
            == 0);
    REQUIRE(Error([](Json& s) {
                s["model"].erase("head_cut");
                s["codec"] = {{"head_uplink", {{"method", "fp16"}}}};
            })
            == "codec.head_uplink: only with model.head_cut (U-shaped)");
    REQUIRE(Error([](Json& s) {
                s["codec"] = {{"head_downlink", {{"method", "ms"}, {"bits", 12}}}};
            }).rfind("codec.head_downlink.", 0)
            == 0);
    REQUIRE(Error([](Json& s) {
                s["schedule"]["kind"] = "splitfed_v2";
            }).rfind("schedule.kind: splitfed_v2 shares one server model", 0)
            == 0);
    REQUIRE(Error([](Json& s) {
                s["schedule"]["kind"] = "splitfed_v2";
                s["devices"]["count"] = 1;
            }).empty()); // one device: nothing to share
    // The manifest form reads back to the same scenario.
    const ScenarioConfig c = LoadScenario(UScenario(), ".");
    CHECK(c.model.headCut == "deep");
    const ScenarioConfig back = LoadScenario(ScenarioToJson(c), ".");
    CHECK(back.model.headCut == "deep");
    CHECK(ScenarioToJson(back) == ScenarioToJson(c));
}

TEST_CASE("slsim: a U-shaped run validates, trains, saves the three parts and resumes")
{
    const std::string dir = TempDir() + "/u-shaped";
    MakeDirectories(dir);
    Json s = UScenario();
    s["training"]["epochs"] = 2;
    s["training"]["save_every_rounds"] = 1;
    WriteFileAtomic(dir + "/u.json", s.dump(1));
    const Result v = Shell(SLSIM + " validate " + dir + "/u.json");
    INFO(v.output);
    REQUIRE(v.rc == 0);
    REQUIRE(v.output.find("server side: layers 3..4, 104 parameters") != std::string::npos);
    REQUIRE(v.output.find("device head (U-shaped; labels stay on the device): layers 5..5 from "
                          "shape 8 (8 values per sample), 36 parameters")
            != std::string::npos);
    const Result r = Shell(SLSIM + " run -q " + dir + "/u.json --out " + dir + "/run");
    INFO(r.output);
    REQUIRE(r.rc == 0);
    // manifest.json's derived: server_* are the middle (fc2), head_* the device's head (fc3), and
    // the three parts add up to the model
    const Json derived = ReadJsonFile(dir + "/run/manifest.json").at("derived");
    CHECK(derived.at("device_parameters") == 16 * 12 + 12);
    CHECK(derived.at("server_parameters") == 104);
    CHECK(derived.at("head_parameters") == 36);
    CHECK(derived.at("head_cut_layer") == 5);
    CHECK(derived.at("head_cut_shape") == Json::array({8}));
    CHECK(derived.at("server_forward_flops_per_sample").get<double>()
          == 2 * 12 * 8 + 8 + 8); // + ReLU
    CHECK(derived.at("head_forward_flops_per_sample").get<double>() == 2 * 8 * 4 + 4);
    CHECK(derived.at("head_backward_flops_per_sample").get<double>() > 0);
    const std::string ck = dir + "/run/checkpoints/final/";
    CHECK(TensorNames(ck + "device-0.safetensors") == "fc1.bias fc1.weight fc3.bias fc3.weight");
    CHECK(TensorNames(ck + "server.safetensors") == "fc2.bias fc2.weight");
    CHECK(TensorNames(ck + "model.safetensors")
          == "fc1.bias fc1.weight fc2.bias fc2.weight fc3.bias fc3.weight");
    REQUIRE(std::ifstream(dir + "/run/checkpoints/round-1/device-1.safetensors").good());

    // The saved whole model starts another run; a device's file lacks the server part.
    Json resumed = UScenario();
    resumed["model"]["init_from"] = ck + "model.safetensors";
    WriteFileAtomic(dir + "/resumed.json", resumed.dump(1));
    const Result r2 = Shell(SLSIM + " run -q " + dir + "/resumed.json --out " + dir + "/resumed");
    INFO(r2.output);
    REQUIRE(r2.rc == 0);
    resumed["model"]["init_from"] = ck + "device-0.safetensors";
    REQUIRE(
        ErrorOf(resumed).rfind("model.init_from: " + ck + "device-0.safetensors: tensor fc2.", 0)
        == 0);

    // A network-only replay and the probe are refused, naming the key.
    Json replay = UScenario();
    replay["training"]["replay"] = dir + "/run";
    REQUIRE(ErrorOf(replay).rfind("training.replay: not with model.head_cut", 0) == 0);
    const Result p = Shell(SLSIM + " probe " + dir + "/u.json --out " + dir + "/probe");
    REQUIRE(p.rc == 2);
    REQUIRE(p.output.find("probe: model.head_cut: ") != std::string::npos);
}
