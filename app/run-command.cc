// `slsim run` and `slsim validate`.
#include "app/arguments.h"
#include "app/commands.h"
#include "app/fs-util.h"
#include "app/memory-estimate.h"
#include "app/scenario-loader.h"
#include "app/sweep.h"
#include "common/csv-writer.h"
#include "common/error.h"
#include "models/split-model.h"
#include "sim/progress.h"
#include "sim/run-state.h"
#include "sim/run.h"
#include "sim/sides.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>

namespace slsim
{

namespace
{

struct ScenarioArgs
{
    std::string scenario;
    std::string out;
    std::vector<std::string> overrides;
    bool quiet = false;
    // `run` only: run-state checkpoints (sim/run-state.h)
    std::string runState;
    int stateEvery = 0;
    bool resume = false;
    int stopAtRound = 0;
    std::string stopAfterWall;
};

ScenarioArgs
ParseScenarioArgs(const std::vector<std::string>& args, const std::string& command, bool needOut)
{
    ScenarioArgs a;
    Arguments p(command);
    p.Positional("SCENARIO.json", a.scenario)
        .Value("out", a.out)
        .List("set", a.overrides)
        .Flag("quiet,q", a.quiet);
    if (command == "run")
    {
        p.Value("run-state", a.runState)
            .Count("state-every", a.stateEvery)
            .Flag("resume", a.resume)
            .Count("stop-at-round", a.stopAtRound)
            .Value("stop-after-wall-s", a.stopAfterWall);
    }
    p.Parse(args);
    if (needOut && a.out.empty())
    {
        throw InputError(command + ": missing --out DIR");
    }
    return a;
}

/// The scenario as a run state records it: the resolved scenario without what cannot change
/// results (model.threads: results are the same at any thread count).
std::string
Fingerprint(const ScenarioConfig& c)
{
    Json j = ScenarioToJson(c);
    if (j.contains("model") && j["model"].is_object())
    {
        j["model"].erase("threads");
    }
    return j.dump();
}

/// The run-state options of `slsim run`: where the state goes, and whether the run continues
/// from it. Refuses (InputError, one line) a state of another scenario.
RunControl
RunStateControl(const ScenarioArgs& a, const ScenarioConfig& c)
{
    RunControl control;
    control.stateEveryRounds = a.stateEvery;
    control.stopAtRound = a.stopAtRound;
    if (!a.stopAfterWall.empty())
    {
        char* end = nullptr;
        control.stopAfterWallS = std::strtod(a.stopAfterWall.c_str(), &end);
        if (*end != '\0' || !(control.stopAfterWallS > 0))
        {
            throw InputError("run: --stop-after-wall-s: expected seconds > 0, got '"
                             + a.stopAfterWall + "'");
        }
    }
    control.statePath = a.runState.empty() ? a.out + ".run-state" : a.runState;
    control.fingerprint = Fingerprint(c);
    if (!a.resume)
    {
        return control;
    }
    std::error_code ec;
    if (!std::filesystem::exists(control.statePath, ec))
    {
        return control; // nothing to continue from: the run starts at round 0
    }
    const RunStateInfo info = ReadRunStateInfo(control.statePath);
    if (info.fingerprint != control.fingerprint)
    {
        // The first difference, as a JSON pointer (an RFC 6902 patch's first operation).
        std::string where = "?";
        try
        {
            const Json patch
                = Json::diff(Json::parse(info.fingerprint), Json::parse(control.fingerprint));
            if (!patch.empty())
            {
                where = patch[0].value("path", "?");
            }
        }
        catch (const std::exception&)
        {
        }
        throw InputError(control.statePath + ": run state of another scenario (first difference at "
                         + where + "); remove it to start again");
    }
    control.resume = true;
    return control;
}

std::string
UtcNow()
{
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

Json
Derived(const ScenarioConfig& c)
{
    const ModelInfo info = DescribeModel(c.model);
    Json d = {{"devices", c.network.devices.size()},
              {"model_input", c.model.input.dims},
              {"model_classes", c.model.classes},
              {"cut_shape", info.cutShape.dims},
              {"cut_layer", info.cut},
              {"model_layers", info.layers},
              {"device_parameters", info.deviceParameters},
              {"server_parameters", info.serverParameters},
              {"device_forward_flops_per_sample", info.deviceFlops.forward},
              {"device_backward_flops_per_sample", info.deviceFlops.backward},
              {"server_forward_flops_per_sample", info.serverFlops.forward},
              {"server_backward_flops_per_sample", info.serverFlops.backward},
              {"uplink_bits_per_element", NominalBitsPerElement(ResolveBudget(c.uplink))},
              {"downlink_bits_per_element", NominalBitsPerElement(ResolveBudget(c.downlink))}};
    if (info.headCut > 0) // U-shaped: server_* above are the middle's
    {
        d["head_cut_layer"] = info.headCut;
        d["head_cut_shape"] = info.headCutShape.dims;
        d["head_parameters"] = info.headParameters;
        d["head_forward_flops_per_sample"] = info.headFlops.forward;
        d["head_backward_flops_per_sample"] = info.headFlops.backward;
    }
    return d;
}

std::string
BitsText(double bits)
{
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.3g", bits);
    return buf;
}

} // namespace

int
ValidateCommand(const std::vector<std::string>& args)
{
    const ScenarioArgs a = ParseScenarioArgs(args, "validate", false);
    const Json doc = ReadJsonFile(a.scenario);
    if (doc.is_object() && doc.contains("base"))
    {
        // A sweep file: expand and validate every point.
        const Sweep sweep = LoadSweep(a.scenario, a.overrides);
        std::cout << a.scenario << ": ok (sweep: " << sweep.points.size() << " points, "
                  << sweep.axes.size() << " grid columns"
                  << (sweep.duplicates.empty() ? std::string()
                                               : ", " + std::to_string(sweep.duplicates.size())
                                                     + " duplicate configurations left out")
                  << ")\n";
        for (const auto& d : sweep.duplicates)
        {
            std::cerr << "slsim validate: left out: " << d << "\n";
        }
        return 0;
    }
    const ScenarioConfig c = LoadScenarioFile(a.scenario, a.overrides);
    const Json d = Derived(c);
    const ModelInfo m = DescribeModel(c.model);
    std::cout << a.scenario << ": ok (" << c.name << ": " << c.network.devices.size()
              << " devices, " << c.model.name << " cut " << c.model.cut << " -> "
              << m.cutShape.ToString() << ", uplink " << c.uplink.method << " "
              << BitsText(d["uplink_bits_per_element"].get<double>()) << " bits/element, schedule "
              << c.schedule.kind << ")\n";
    // FLOPs per sample (a multiply-add is 2; backward = weight and input gradients).
    std::cout << "  model: " << m.layers << " layers, cut after layer " << m.cut << " (shape "
              << m.cutShape.ToString() << ", " << m.cutShape.Numel() << " values per sample)\n"
              << "  device side: layers 0.." << m.cut - 1 << ", " << m.deviceParameters
              << " parameters, " << BitsText(m.deviceFlops.forward) << " forward + "
              << BitsText(m.deviceFlops.backward) << " backward FLOPs per sample\n"
              << "  server side: layers " << m.cut << ".."
              << (m.headCut > 0 ? m.headCut : m.layers) - 1 << ", " << m.serverParameters
              << " parameters, " << BitsText(m.serverFlops.forward) << " forward + "
              << BitsText(m.serverFlops.backward) << " backward FLOPs per sample\n";
    if (m.headCut > 0)
    {
        std::cout << "  device head (U-shaped; labels stay on the device): layers " << m.headCut
                  << ".." << m.layers - 1 << " from shape " << m.headCutShape.ToString() << " ("
                  << m.headCutShape.Numel() << " values per sample), " << m.headParameters
                  << " parameters, " << BitsText(m.headFlops.forward) << " forward + "
                  << BitsText(m.headFlops.backward) << " backward FLOPs per sample\n";
    }
    // Per-device cuts: each distinct cut, its devices, its cut and device-side FLOPs.
    const DeviceCuts cuts = ResolveDeviceCuts(c.model, c.network.devices);
    for (int g = 0; cuts.groups > 1 && g < cuts.groups; ++g)
    {
        const auto first = static_cast<size_t>(std::find(cuts.group.begin(), cuts.group.end(), g)
                                               - cuts.group.begin());
        ModelConfig cm = c.model;
        cm.cut = cuts.cut[first];
        const ModelInfo gi = DescribeModel(cm);
        std::cout << "  device cut " << cuts.cut[first] << ": "
                  << std::count(cuts.group.begin(), cuts.group.end(), g) << " devices (from device "
                  << first << "), after layer " << gi.cut << " (shape " << gi.cutShape.ToString()
                  << "), device side " << BitsText(gi.deviceFlops.forward) << " forward FLOPs"
                  << (g == 0 ? "; evaluated with its server part" : "") << "\n";
    }
    std::string source;
    const double available = AvailableMemory(&source);
    std::cout << a.scenario << ": memory: estimated " << EstimateMemory(c).Describe() << " of "
              << FormatBytes(available) << " available (" << source << ")\n";
    return 0;
}

int
RunCommand(const std::vector<std::string>& args)
{
    const ScenarioArgs a = ParseScenarioArgs(args, "run", true);
    Json doc;
    const ScenarioConfig c = LoadScenarioFile(a.scenario, a.overrides, &doc);
    const RunControl control = RunStateControl(a, c);
    // Results go to a temporary sibling, renamed into place once the manifest is written: a
    // killed or failed run leaves the folder absent or as the previous complete run left it.
    StagedFolder staged(a.out);
    const std::string started = UtcNow();
    const auto t0 = std::chrono::steady_clock::now();
    SetProgressReporting(ProgressSettings::Stderr(!a.quiet));
    const RunSummary s = RunScenario(c, staged.Path(), control);
    const double wall
        = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (s.stopped)
    {
        // No results: the state is the run's progress (the staged folder goes away).
        std::cerr << "slsim: " << c.name << ": stopped at the start of round " << s.rounds << " ("
                  << FormatDouble(s.simTimeS) << " s simulated), state in " << control.statePath
                  << "; continue with --resume\n";
        return 3;
    }

    Json m = Json::object();
    m["slsim_version"] = SLSIM_VERSION;
    m["scenario_file"] = a.scenario;
    m["overrides"] = a.overrides;
    m["seed"] = c.seed;
    if (!c.training.replay.empty())
    {
        // Network-only replay: the training numbers are the reference run's (scenario.training
        // .replay holds the same path; this key makes it visible at the top).
        m["replay_source"] = c.training.replay;
    }
    m["started_utc"] = started;
    if (s.resumedFromRound > 0)
    {
        // Continued from a run state (sim/run-state.h): wall times are this process's only.
        m["resumed_from_round"] = s.resumedFromRound;
    }
    m["wall_time_s"] = wall;
    m["summary"] = {{"final_accuracy", s.finalAccuracy},
                    {"final_loss", s.finalLoss},
                    {"best_accuracy", s.bestAccuracy},
                    {"time_to_target_s", s.timeToTargetS},
                    {"bytes_up_to_target", s.bytesUpToTarget},
                    {"bytes_up", s.bytesUp},
                    {"bytes_down", s.bytesDown},
                    {"bytes_sync", s.bytesSync},
                    {"sim_time_s", s.simTimeS},
                    {"steps", s.steps},
                    {"rounds", s.rounds},
                    {"dropouts", s.dropouts},
                    {"diverged", s.diverged},
                    {"wall_time_s", s.wallTimeS},
                    {"training_wall_s", s.trainingWallS},
                    {"ns3_wall_s", s.ns3WallS}};
    m["derived"] = Derived(c);
    m["label_histograms"] = s.labelHistograms;
    m["scenario"] = ScenarioToJson(c);
    WriteFileAtomic(staged.Path() + "/manifest.json", m.dump(2) + "\n");
    staged.Commit();
    if (control.Active())
    {
        // The results are whole: the run state (large) is no longer needed.
        std::error_code ec;
        std::filesystem::remove(control.statePath, ec);
    }
    if (!a.quiet)
    {
        std::cerr << "slsim: " << c.name << ": accuracy "
                  << (std::isnan(s.finalAccuracy) ? "none (no evaluation)"
                                                  : FormatDouble(s.finalAccuracy))
                  << " after " << s.rounds << " rounds" << (s.diverged ? " (diverged)" : "") << ", "
                  << FormatDouble(s.simTimeS) << " s simulated, "
                  << (s.bytesUp + s.bytesDown + s.bytesSync) << " bytes, wall "
                  << FormatDouble(wall) << " s -> " << a.out << "/\n";
    }
    return 0;
}

} // namespace slsim
