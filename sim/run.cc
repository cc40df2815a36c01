#include "sim/run.h"

#include "common/error.h"
#include "common/rng.h"
#include "sim/device-app.h"
#include "sim/metrics-collector.h"
#include "sim/server-app.h"
#include "sim/split-trainer.h"
#include "sim/topology.h"

#include "ns3/core-module.h"

#include <chrono>
#include <filesystem>

namespace slsim
{
namespace
{

constexpr uint16_t SERVER_PORT = 7000;

void
SetLinkLoss(Network* net, int device, double loss)
{
    net->errorModels[2 * static_cast<size_t>(device)]->SetRate(loss);
    net->errorModels[2 * static_cast<size_t>(device) + 1]->SetRate(loss);
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
    SplitTrainer trainer(config);
    const int devices = trainer.Devices();
    MetricsCollector metrics(devices, config.recordFrames);
    int round = 0;

    Network net = BuildNetwork(config.network, config.seed);
    auto server = ns3::CreateObject<ServerApp>();
    server->Setup(&config, SERVER_PORT, &trainer, &metrics, &round);
    net.server->AddApplication(server);
    server->SetStartTime(ns3::Seconds(0));
    Rng jitter(config.seed, "start-jitter");
    for (int d = 0; d < devices; ++d)
    {
        auto app = ns3::CreateObject<DeviceApp>();
        app->Setup(d, net.serverAddress, SERVER_PORT, &trainer, &metrics,
                   config.training.timeBudgetS, &round);
        net.devices.Get(static_cast<uint32_t>(d))->AddApplication(app);
        app->SetStartTime(ns3::Seconds(jitter.Uniform() * config.network.startJitterS));
    }
    for (const OutageConfig& o : config.faults.outages)
    {
        const double loss = config.network.devices[static_cast<size_t>(o.device)].loss;
        ns3::Simulator::Schedule(ns3::Seconds(o.fromS), [&net, &metrics, &round, o] {
            SetLinkLoss(&net, o.device, 1.0);
            metrics.Event(ns3::Simulator::Now().GetSeconds(), o.device, "offline", round);
        });
        if (std::isfinite(o.untilS))
        {
            ns3::Simulator::Schedule(ns3::Seconds(o.untilS), [&net, &metrics, &round, o, loss] {
                SetLinkLoss(&net, o.device, loss);
                metrics.Event(ns3::Simulator::Now().GetSeconds(), o.device, "online", round);
            });
        }
    }

    const double trainingBefore = trainer.TrainingWallSeconds();
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
        metrics.Event(ns3::Simulator::Now().GetSeconds(), -1, "diverged", round);
    }
    catch (...)
    {
        // E.g. a replay whose device timed out: leave no simulator state behind for the next run.
        ns3::Simulator::Destroy();
        throw;
    }
    const std::chrono::duration<double> loop = std::chrono::steady_clock::now() - loopStart;

    summary.simTimeS = ns3::Simulator::Now().GetSeconds();
    summary.rounds = round;
    summary.dropouts = server->Dropouts();
    summary.labelHistograms = trainer.LabelHistograms();
    summary.trainingWallS = trainer.TrainingWallSeconds();
    summary.ns3WallS = loop.count() - (trainer.TrainingWallSeconds() - trainingBefore);
    ns3::Simulator::Destroy();
    summary.wallTimeS =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wallStart).count();
    metrics.Write(outDir, summary, config.training.targetAccuracy);
    return summary;
}

} // namespace slsim
