#include "sim/run.h"

#include "common/error.h"
#include "common/rng.h"
#include "sim/churn.h"
#include "sim/device-app.h"
#include "sim/energy.h"
#include "sim/metrics-collector.h"
#include "sim/network-stats.h"
#include "sim/progress.h"
#include "sim/server-app.h"
#include "sim/sides.h"
#include "sim/topology.h"

#include "ns3/core-module.h"
#include "ns3/ipv4-address.h"

#include <chrono>
#include <filesystem>
#include <iostream>

namespace slsim
{
namespace
{

constexpr uint16_t SERVER_PORT = 7000;

/// A line on stderr when retransmission timers expired: they stall a phase for at least the
/// minimum RTO each, which the simulated time then includes.
void
WarnTimeouts(const NetworkStats& net, int devices)
{
    const uint64_t total = net.TcpTotal().timeouts;
    if (total == 0)
    {
        return;
    }
    int worst = 0;
    bool uplink = true;
    uint64_t most = 0;
    for (int d = 0; d < devices; ++d) // first device wins a tie: deterministic
    {
        for (const bool up : {true, false})
        {
            const uint64_t n = (up ? net.Uplink(d) : net.Downlink(d)).timeouts;
            if (n > most)
            {
                worst = d;
                uplink = up;
                most = n;
            }
        }
    }
    std::cerr << "slsim: warning: " << total << " TCP retransmission timeouts (device " << worst
              << "'s " << (uplink ? "uplink" : "downlink") << " most: " << most
              << "); simulated time includes the stalls; see devices.csv\n";
}

} // namespace

RunSummary
RunScenario(const ScenarioConfig& config, const std::string& outDir)
{
    const auto wallStart = std::chrono::steady_clock::now();
    std::error_code ec;
    std::filesystem::create_directories(outDir, ec);
    if (ec)
    {
        throw InputError(outDir + ": cannot create output folder: " + ec.message());
    }

    // Everything that reads files or can reject input happens before any ns-3 object exists.
    Sides sides = BuildSides(config);
    const int devices = sides.Devices();
    MetricsCollector metrics(devices, config.recordFrames);
    RunProgress progress(config, sides); // stderr only, as app/ set it (SetProgressReporting)

    Network net = BuildNetwork(config.network, config.seed);
    const NetworkStats netStats(net);
    std::vector<double> loss, delaysS;
    for (const DeviceProfile& p : config.network.devices)
    {
        loss.push_back(p.loss);
        delaysS.push_back(p.delayMs / 1e3);
    }
    Availability* availability = nullptr; // set below; the recorder calls back into it
    EnergyRecorder energy(config.network.devices,
                          [&availability](int d) { availability->BatteryEmpty(d); });
    energy.WatchLinks(net, delaysS);
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
    server->SetAttribute("TimeBudgetS", ns3::DoubleValue(config.training.timeBudgetS));
    server->SetSides(sides.server.get(), sides.schedule.get());
    // The round clock: every device side learns the round's learning rate when it begins.
    server->TraceConnectWithoutContext("RoundStarted", ns3::Callback<void, int>([&sides](int r) {
                                           for (auto& d : sides.devices)
                                           {
                                               d->SetRound(r);
                                           }
                                       }));
    metrics.Watch(server);
    progress.Watch(server);
    net.server->AddApplication(server);
    server->SetStartTime(ns3::Seconds(0));
    Rng jitter(config.seed, "start-jitter");
    for (int d = 0; d < devices; ++d)
    {
        const DeviceProfile& profile = config.network.devices[static_cast<size_t>(d)];
        auto app = ns3::CreateObject<DeviceApp>();
        app->SetAttribute("Device", ns3::IntegerValue(d));
        app->SetAttribute("ServerAddress", ns3::Ipv4AddressValue(net.serverAddress));
        app->SetAttribute("Port", ns3::UintegerValue(SERVER_PORT));
        app->SetAttribute("Gflops", ns3::DoubleValue(profile.gflops));
        app->SetAttribute("TimeBudgetS", ns3::DoubleValue(config.training.timeBudgetS));
        app->SetSide(sides.devices[static_cast<size_t>(d)].get());
        metrics.Watch(app);
        energy.Watch(app);
        progress.Watch(app);
        net.devices.Get(static_cast<uint32_t>(d))->AddApplication(app);
        const ns3::Time start = ns3::Seconds(jitter.Uniform() * config.network.startJitterS);
        app->SetStartTime(start);
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

    energy.Finish();
    summary.simTimeS = ns3::Simulator::Now().GetSeconds();
    summary.rounds = server->Rounds();
    summary.dropouts = server->Dropouts();
    summary.labelHistograms = sides.labelHistograms;
    summary.trainingWallS = sides.wall->Seconds();
    summary.ns3WallS = loop.count() - (sides.wall->Seconds() - trainingBefore);
    ns3::Simulator::Destroy();
    summary.wallTimeS
        = std::chrono::duration<double>(std::chrono::steady_clock::now() - wallStart).count();
    metrics.Write(outDir, summary, config.training.targetAccuracy, &netStats, &energy);
    WarnTimeouts(netStats, devices);
    return summary;
}

} // namespace slsim
