#include "sim/run.h"

#include "common/error.h"
#include "common/rng.h"
#include "sim/churn.h"
#include "sim/device-app.h"
#include "sim/energy.h"
#include "sim/lte-access.h"
#include "sim/metrics-collector.h"
#include "sim/network-stats.h"
#include "sim/progress.h"
#include "sim/run-state.h"
#include "sim/server-app.h"
#include "sim/sides.h"
#include "sim/topology.h"
#include "sim/wifi-access.h"

#include "ns3/core-module.h"
#include "ns3/ipv4-address.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace slsim
{
namespace
{

constexpr uint16_t SERVER_PORT = 7000;

/// A line on stderr when retransmission-timer waits cover more than `share` of the simulated
/// time: each stalls a connection for at least the minimum RTO, which the simulated time then
/// includes. It names the connection with the most waiting and the phase with the most stall
/// (a union over its connections, as the run's figure: RtoSummary).
void
WarnTimeouts(const MetricsCollector& metrics, double simTimeS, double share)
{
    const RtoSummary r = metrics.Rto();
    if (r.timeouts == 0 || !(r.stallS > share * simTimeS))
    {
        return;
    }
    std::ostringstream line;
    line.precision(3);
    line << "slsim: warning: TCP retransmission timeouts stalled connections for " << r.stallS
         << " s of " << simTimeS << " s simulated (" << 100 * r.stallS / simTimeS
         << " %, above diagnostics.rto_warning_share " << share << "): " << r.timeouts
         << " timeouts; most waiting on device " << r.device << "'s "
         << (r.uplink ? "uplink" : "downlink") << " connection (" << r.deviceWaitS << " s) and in ";
    if (r.phase == 0)
    {
        line << "the connection set-up";
    }
    else
    {
        const std::map<std::string, std::string> during = {{"steps", "steps"},
                                                           {"sync", "synchronisation"},
                                                           {"connect", "connection set-up"},
                                                           {"idle", "idle time"}};
        line << "round " << r.round << " phase " << r.phase << " during " << during.at(r.activity);
    }
    line << " (" << r.phaseStallS << " s stalled, " << r.phaseTimeouts
         << " timeouts); see devices.csv\n";
    std::cerr << line.str();
}

} // namespace

RunSummary
RunScenario(const ScenarioConfig& config, const std::string& outDir, const RunControl& control)
{
    const auto wallStart = std::chrono::steady_clock::now();
    std::error_code ec;
    std::filesystem::create_directories(outDir, ec);
    if (ec)
    {
        throw InputError(outDir + ": cannot create output folder: " + ec.message());
    }

    // Everything that reads files or can reject input happens before any ns-3 object exists.
    // A resume starts the network at the checkpoint's simulated instant t0 (sim/run-state.h).
    double t0 = 0;
    int resumedRound = 0;
    if (control.Active())
    {
        CheckResumable(config);
    }
    if (control.resume)
    {
        const RunStateInfo info = ReadRunStateInfo(control.statePath);
        t0 = info.simTimeS;
        resumedRound = info.round;
    }
    Sides sides = BuildSides(config);
    const int devices = sides.Devices();
    MetricsCollector metrics(devices, config.recordFrames);
    metrics.SetCutNames(sides.cutNames);
    RunProgress progress(config, sides); // stderr only, as app/ set it (SetProgressReporting)

    Network net = BuildNetwork(config.network, config.seed);
    NetworkStats netStats(net);
    netStats.OnRtoExpired([&metrics](const RtoRecord& r) { metrics.OnRto(r); });
    std::vector<double> loss, delaysS;
    for (const DeviceProfile& p : config.network.devices)
    {
        loss.push_back(p.loss);
        delaysS.push_back(p.access == "wired" ? p.delayMs / 1e3 : 0.0);
    }
    Availability* availability = nullptr; // set below; the recorder calls back into it
    EnergyRecorder energy(config.network.devices,
                          [&availability](int d) { availability->BatteryEmpty(d); });
    energy.WatchLinks(net, delaysS);
    if (net.lte)
    {
        net.lte->WatchRadio(&energy);
    }
    Availability online(&net, loss, &metrics, &energy);
    availability = &online;
    auto server = ns3::CreateObject<ServerApp>();
    server->SetAttribute("Port", ns3::UintegerValue(SERVER_PORT));
    server->SetAttribute("Devices", ns3::IntegerValue(devices));
    server->SetAttribute("Workers", ns3::IntegerValue(config.network.serverWorkers));
    server->SetAttribute("Gflops", ns3::DoubleValue(config.network.serverGflops));
    server->SetAttribute("TimeoutS", ns3::DoubleValue(config.faults.timeoutS));
    server->SetAttribute("Epochs", ns3::IntegerValue(config.training.epochs));
    server->SetAttribute("EvalEveryRounds", ns3::IntegerValue(config.training.evalEveryRounds));
    server->SetAttribute("EvalEverySteps", ns3::IntegerValue(config.training.evalEverySteps));
    server->SetAttribute("EvalEveryS", ns3::DoubleValue(config.training.evalEveryS));
    server->SetAttribute("EvalAtStart", ns3::BooleanValue(config.training.evalAtStart));
    server->SetAttribute("TimeBudgetS", ns3::DoubleValue(config.training.timeBudgetS));
    server->SetAttribute("MaxActiveDevices", ns3::IntegerValue(config.schedule.maxActiveDevices));
    server->SetSides(sides.server.get(), sides.schedule.get());
    // The round clock: every device side learns the round's learning rate when it begins.
    server->TraceConnectWithoutContext("RoundStarted", ns3::Callback<void, int>([&sides](int r) {
                                           for (auto& d : sides.devices)
                                           {
                                               d->SetRound(r);
                                           }
                                       }));
    const int saveEvery = config.training.saveEveryRounds;
    if (saveEvery > 0)
    {
        // Checkpoints after every saveEvery-th round, inside the (staged) run folder.
        server->TraceConnectWithoutContext(
            "RoundStarted", ns3::Callback<void, int>([&sides, &server, &outDir, saveEvery](int r) {
                if (r > 0 && r % saveEvery == 0)
                {
                    SaveCheckpoints(sides, outDir + "/checkpoints/round-" + std::to_string(r),
                                    server->Agreed());
                }
            }));
    }
    metrics.Watch(server);
    progress.Watch(server);
    server->SetListenNodes(net.serverNodes);
    net.server->AddApplication(server);
    server->SetStartTime(ns3::Seconds(t0));
    RunStateParts parts{&sides, ns3::PeekPointer(server), {}, &metrics, &energy, &netStats};
    bool stopped = false;
    if (control.Active())
    {
        // The run state at round starts: every stateEveryRounds-th, and where the run stops.
        server->TraceConnectWithoutContext(
            "RoundStarted", ns3::Callback<void, int>([&, resumedRound, wallStart](int r) {
                if (r == resumedRound)
                {
                    return; // the state this run started from
                }
                const double wall
                    = std::chrono::duration<double>(std::chrono::steady_clock::now() - wallStart)
                          .count();
                stopped = (control.stopAtRound > 0 && r >= control.stopAtRound)
                          || (control.stopAfterWallS > 0 && wall >= control.stopAfterWallS);
                if (stopped || (control.stateEveryRounds > 0 && r % control.stateEveryRounds == 0))
                {
                    WriteRunState(control.statePath, control.fingerprint, parts);
                }
                if (stopped)
                {
                    ns3::Simulator::Stop();
                }
            }));
    }
    Rng jitter(config.seed, "start-jitter");
    for (int d = 0; d < devices; ++d)
    {
        const DeviceProfile& profile = config.network.devices[static_cast<size_t>(d)];
        auto app = ns3::CreateObject<DeviceApp>();
        app->SetAttribute("Device", ns3::IntegerValue(d));
        app->SetAttribute("ServerAddress",
                          ns3::Ipv4AddressValue(net.ServerAddressFor(static_cast<size_t>(d))));
        app->SetAttribute("Port", ns3::UintegerValue(SERVER_PORT));
        app->SetAttribute("Gflops", ns3::DoubleValue(profile.gflops));
        app->SetAttribute("TimeBudgetS", ns3::DoubleValue(config.training.timeBudgetS));
        app->SetSide(sides.devices[static_cast<size_t>(d)].get());
        metrics.Watch(app);
        energy.Watch(app);
        progress.Watch(app);
        parts.apps.push_back(app);
        ns3::Ptr<ns3::Node> node = net.devices.Get(static_cast<uint32_t>(d));
        const ns3::Time start = ns3::Seconds(t0 + jitter.Uniform() * config.network.startJitterS);
        if (profile.access == "lte")
        {
            // A phone powers on at `start`; its app starts once its radio has attached (a node
            // initialises an application added during the run when it is added).
            ns3::Simulator::Schedule(start, [&online, d] { online.Start(d); });
            ns3::Simulator::Schedule(start, [&net, node, app, d] {
                net.lte->WhenAttached(d, [node, app] { node->AddApplication(app); });
            });
            continue;
        }
        if (IsWifi(net.deviceSide[static_cast<size_t>(d)]))
        {
            // A station sends nothing before it is associated (sim/wifi-access.h): the app
            // starts then at the earliest (an app added while running starts after its delay).
            WhenAssociated(net.deviceSide[static_cast<size_t>(d)], [app, node, start] {
                app->SetStartTime(ns3::Max(start - ns3::Simulator::Now(), ns3::Seconds(0)));
                node->AddApplication(app);
            });
        }
        else
        {
            node->AddApplication(app);
            app->SetStartTime(start);
        }
        ns3::Simulator::Schedule(start, [&online, d] { online.Start(d); });
    }
    for (const OutageConfig& o : config.faults.outages)
    {
        ns3::Simulator::Schedule(ns3::Seconds(o.fromS),
                                 [&online, o] { online.OutageBegin(o.device); });
        if (std::isfinite(o.untilS))
        {
            ns3::Simulator::Schedule(ns3::Seconds(o.untilS),
                                     [&online, o] { online.OutageEnd(o.device); });
        }
    }

    // Churn on top of the outages: listed off intervals and the on/off model (sim/churn.h).
    ChurnSchedule churn(config.faults.churn, devices, config.seed, &online);
    if (control.resume)
    {
        try
        {
            LoadRunState(control.statePath, parts);
        }
        catch (...)
        {
            ns3::Simulator::Destroy(); // leave no simulator state behind for the next run
            throw;
        }
    }

    const double trainingBefore = sides.wall->Seconds();
    const auto loopStart = std::chrono::steady_clock::now();
    RunSummary summary;
    try
    {
        ns3::Simulator::Run();
    }
    catch (const TrainingDiverged& e)
    {
        // Diverged training is a result, not a failure: the run ends at that instant and keeps
        // everything measured before it.
        summary.diverged = true;
        metrics.Event(-1, "diverged");
    }
    catch (...)
    {
        // E.g. a replay whose device timed out: leave no simulator state behind for the next run.
        ns3::Simulator::Destroy();
        throw;
    }
    const std::chrono::duration<double> loop = std::chrono::steady_clock::now() - loopStart;
    summary.resumedFromRound = resumedRound;
    if (stopped)
    {
        // The state is written; the results would be partial: none are written.
        summary.stopped = true;
        summary.rounds = server->Rounds();
        summary.simTimeS = ns3::Simulator::Now().GetSeconds();
        ns3::Simulator::Destroy();
        return summary;
    }

    energy.Finish();
    summary.simTimeS = ns3::Simulator::Now().GetSeconds();
    summary.rounds = server->Rounds();
    summary.dropouts = server->Dropouts();
    summary.labelHistograms = sides.labelHistograms;
    summary.trainingWallS = sides.wall->Seconds();
    summary.ns3WallS = loop.count() - (sides.wall->Seconds() - trainingBefore);
    if (saveEvery > 0)
    {
        SaveCheckpoints(sides, outDir + "/checkpoints/final", server->Agreed());
    }
    ns3::Simulator::Destroy();
    summary.wallTimeS
        = std::chrono::duration<double>(std::chrono::steady_clock::now() - wallStart).count();
    metrics.Write(outDir, summary, config.training.targetAccuracy, &netStats, &energy);
    WarnTimeouts(metrics, summary.simTimeS, config.diagnostics.rtoWarningShare);
    return summary;
}

} // namespace slsim
