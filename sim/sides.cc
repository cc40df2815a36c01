#include "sim/sides.h"

#include "common/error.h"
#include "sim/replay-sides.h"
#include "sim/scenario-config.h"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>

namespace slsim
{

namespace
{

/// A device whose shard is smaller than the batch size trains on its whole shard in every step
/// (a smaller batch than asked): said once per run on stderr, naming the first such devices.
void
WarnSmallShards(const std::vector<size_t>& shards, int batch)
{
    std::string which;
    int count = 0;
    for (size_t d = 0; d < shards.size(); ++d)
    {
        if (shards[d] < static_cast<size_t>(batch))
        {
            if (++count <= 3)
            {
                which += (which.empty() ? "" : ", ") + std::string("device ") + std::to_string(d)
                         + ": " + std::to_string(shards[d]);
            }
        }
    }
    if (count > 0)
    {
        std::cerr << "slsim: warning: " << count << " device(s) hold fewer samples than "
                  << "training.batch_size (" << batch << "), so their batches are cut to the "
                  << "whole shard (" << which << (count > 3 ? ", ..." : "") << ")\n";
    }
}

} // namespace

DeviceCuts
ResolveDeviceCuts(const ModelConfig& model, const std::vector<DeviceProfile>& devices)
{
    DeviceCuts out;
    std::map<std::string, size_t> layersOf; // cut text -> device-side layers
    std::map<size_t, int> groupOf;          // device-side layers -> group
    for (const DeviceProfile& p : devices)
    {
        const std::string cut = p.cut.empty() ? model.cut : p.cut;
        auto it = layersOf.find(cut);
        if (it == layersOf.end())
        {
            ModelConfig m = model;
            m.cut = cut; // resnet18's spec depends on its cut
            it = layersOf.emplace(cut, ResolveCut(SpecOf(m), cut)).first;
        }
        const auto g = groupOf.emplace(it->second, out.groups);
        out.groups += g.second ? 1 : 0;
        out.cut.push_back(cut);
        out.layers.push_back(it->second);
        out.group.push_back(g.first->second);
    }
    return out;
}

Sides
BuildSides(const ScenarioConfig& config)
{
    Sides sides;
    sides.wall = std::make_unique<WallAccount>();
    SetThreadCount(config.model.threads);
    const bool replay = !config.training.replay.empty();
    std::shared_ptr<ReplayProgress> progress;
    if (replay)
    {
        progress = std::make_shared<ReplayProgress>(config.training.replay);
    }
    auto data = std::make_shared<TrainingData>();
    data->uplink = MakeCodec(config.uplink);
    data->downlink = MakeCodec(config.downlink);
    data->sync = MakeCodec(config.sync);
    data->headDownlink = MakeCodec(config.headDownlink); // U-shaped (model.head_cut) only
    data->headUplink = MakeCodec(config.headUplink);
    data->train = LoadDataset(config.dataset, true, config.seed);
    if (!replay)
    {
        data->trainBatches = std::make_unique<BatchMaker>(data->train, config.dataset);
        data->test = LoadDataset(config.dataset, false, config.seed);
        data->testBatches = std::make_unique<BatchMaker>(data->test, config.dataset);
    }

    ModelConfig model = config.model;
    model.input = data->train.SampleShape();
    model.classes = data->train.classes;
    const DeviceCuts cuts = ResolveDeviceCuts(model, config.network.devices);
    if (!cuts.cut.empty())
    {
        model.cut = cuts.cut[0]; // the evaluated model is device 0's cut
    }
    const bool mixedCuts = cuts.groups > 1;
    sides.cutNames.resize(static_cast<size_t>(cuts.groups));
    for (size_t d = cuts.group.size(); d-- > 0;) // each group's first device names it
    {
        sides.cutNames[static_cast<size_t>(cuts.group[d])] = cuts.cut[d];
    }

    const int devices = static_cast<int>(config.network.devices.size());
    Rng partitionRng(config.seed, "partition");
    auto shards = PartitionDataset(data->train, devices, config.partition, partitionRng);
    sides.labelHistograms = LabelHistograms(data->train, shards);

    // One model for evaluation (training) or for the shapes, sizes and FLOPs (replay). With
    // model.init_from every copy starts from the checkpoint's state instead of the seeded init.
    // U-shaped (model.head_cut): every model also has the device's head.
    SplitModel first = BuildSplitModel(model, config.optimizer, config.seed);
    std::vector<float> deviceStart, serverStart, headStart;
    if (!model.initFrom.empty())
    {
        LoadCheckpoint(model.initFrom, first);
        deviceStart.resize(first.device->StateSize());
        first.device->GetState(deviceStart.data());
        serverStart.resize(first.server->StateSize());
        first.server->GetState(serverStart.data());
        if (first.head)
        {
            headStart.resize(first.head->StateSize());
            first.head->GetState(headStart.data());
        }
    }
    auto build = [&]() {
        SplitModel m = BuildSplitModel(model, config.optimizer, config.seed);
        if (!deviceStart.empty())
        {
            m.device->SetState(deviceStart.data());
            m.server->SetState(serverStart.data());
        }
        if (!headStart.empty())
        {
            m.head->SetState(headStart.data());
        }
        return m;
    };
    // Per-device cuts: a model at cut group g's cut (the first of its devices names it).
    auto buildAt = [&](int g) {
        ModelConfig m = model;
        const auto named = std::find(cuts.group.begin(), cuts.group.end(), g);
        m.cut = cuts.cut[static_cast<size_t>(named - cuts.group.begin())];
        SplitModel s = BuildSplitModel(m, config.optimizer, config.seed);
        if (!m.initFrom.empty())
        {
            LoadCheckpoint(m.initFrom, s);
        }
        return s;
    };
    ReplayShapes shapes;
    shapes.cut = first.device->OutputShape();
    shapes.stateSize = first.device->StateSize();
    shapes.deviceFlops = first.device->FlopsPerSample();
    shapes.serverFlops = first.server->FlopsPerSample();

    const TrainingDevice* firstDevice = nullptr; // evaluated before any state is agreed on
    std::vector<const TrainingDevice*> groupFirst(static_cast<size_t>(cuts.groups), nullptr);
    for (int d = 0; d < devices; ++d)
    {
        std::vector<uint32_t> shard = std::move(shards[static_cast<size_t>(d)]);
        if (replay)
        {
            sides.devices.push_back(
                std::make_unique<ReplayDevice>(config, d, std::move(shard), shapes, progress));
        }
        else
        {
            SplitModel m = mixedCuts ? buildAt(cuts.group[static_cast<size_t>(d)]) : build();
            auto device = std::make_unique<TrainingDevice>(config, d, data, std::move(shard),
                                                           std::move(m.device), sides.wall.get(),
                                                           std::move(m.head));
            firstDevice = firstDevice ? firstDevice : device.get();
            const auto g = static_cast<size_t>(cuts.group[static_cast<size_t>(d)]);
            groupFirst[g] = groupFirst[g] ? groupFirst[g] : device.get();
            sides.trainingDevices.push_back(device.get());
            sides.devices.push_back(std::move(device));
        }
    }

    ScheduleContext context;
    context.syncEverySteps = config.schedule.syncEverySteps;
    for (const auto& d : sides.devices)
    {
        context.stepsPerEpoch.push_back(d->StepsPerEpoch());
        context.shardSizes.push_back(d->ShardSize());
    }
    WarnSmallShards(context.shardSizes, config.training.batchSize);
    sides.schedule = MakeSchedule(config.schedule.kind, context);

    if (replay)
    {
        sides.server = std::make_unique<ReplayServer>(config, shapes, progress);
    }
    else
    {
        const bool perDevice = sides.schedule->PerDeviceServerCopies();
        const int copies = perDevice ? devices : (mixedCuts ? cuts.groups : 1);
        std::vector<std::unique_ptr<Partition>> servers;
        servers.push_back(std::move(first.server));
        for (int c = 1; c < copies; ++c)
        {
            // per device at its cut (v1) or per cut group; copy 0 is group 0's either way
            servers.push_back(
                mixedCuts ? buildAt(perDevice ? cuts.group[static_cast<size_t>(c)] : c).server
                          : build().server);
        }
        auto server = std::make_unique<TrainingServer>(config, data, std::move(servers),
                                                       std::move(first.device), firstDevice,
                                                       sides.wall.get(), std::move(first.head));
        if (mixedCuts)
        {
            std::vector<int> copyOf(cuts.group);
            for (int d = 0; perDevice && d < devices; ++d)
            {
                copyOf[static_cast<size_t>(d)] = d;
            }
            std::vector<std::unique_ptr<Partition>> groupDevices;
            for (int g = 0; g < cuts.groups; ++g)
            {
                groupDevices.push_back(buildAt(g).device);
            }
            server->SetCutGroups(cuts.group, std::move(copyOf), std::move(groupDevices),
                                 std::move(groupFirst));
        }
        sides.trainingServer = server.get();
        sides.server = std::move(server);
    }
    for (auto& d : sides.devices)
    {
        d->SetRound(0);
    }
    sides.server->SetRound(0);
    return sides;
}

void
SaveCheckpoints(Sides& sides, const std::string& dir, const AgreedState& agreed)
{
    if (!sides.trainingServer)
    {
        return;
    }
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec)
    {
        throw InputError(dir + ": cannot create checkpoint folder: " + ec.message());
    }
    TrainingServer& server = *sides.trainingServer;
    server.SaveModel(dir + "/model.safetensors", agreed.valid ? &agreed.weights : nullptr);
    for (size_t d = 0; d < sides.trainingDevices.size(); ++d)
    {
        const TrainingDevice& device = *sides.trainingDevices[d];
        std::vector<const Partition*> parts{&device.Model()};
        if (device.HeadPart()) // U-shaped: the device holds its head too
        {
            parts.push_back(device.HeadPart());
        }
        SaveCheckpoint(dir + "/device-" + std::to_string(d) + ".safetensors", parts);
    }
    const int copies = server.Copies();
    for (int c = 0; c < copies; ++c)
    {
        SaveCheckpoint(dir + (copies == 1 ? "/server" : "/server-" + std::to_string(c))
                           + ".safetensors",
                       {&server.Copy(c)});
    }
}

} // namespace slsim
