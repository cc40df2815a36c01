#include "app/compute-check.h"

#include "app/json-reader.h"
#include "common/error.h"
#include "models/data/dataset.h"
#include "models/model-zoo.h"

namespace slsim
{

namespace
{

constexpr double MIN_S = 1e-9; // ns-3 Time's default resolution (1 ns)
constexpr double MAX_S = 1e9;  // app/scenario-keys.cc TIME_S

Flops
FlopsOf(const Architecture& a, size_t from, size_t to)
{
    Flops f;
    for (size_t i = from; i < to; ++i)
    {
        const Flops l = a.layers[i]->FlopsPerSample();
        f.forward += l.forward;
        f.backward += l.backward;
    }
    return f;
}

/// Refuses `flops` at `gflops` when the time is not representable.
void
Check(const std::string& key, double gflops, double flops, int batch, const std::string& what)
{
    if (!(flops > 0))
    {
        return;
    }
    const double work = flops * batch;
    const double seconds = work / (gflops * 1e9);
    const std::string text = ShortNumber(gflops, 3) + " GFLOP/s makes " + what + " ("
                             + ShortNumber(work, 3) + " FLOP for " + std::to_string(batch)
                             + " samples) last " + ShortNumber(seconds, 3) + " s, ";
    if (seconds > MAX_S)
    {
        throw InputError(key + ": " + text + "beyond what the simulator represents (max "
                         + ShortNumber(MAX_S, 3) + " s)");
    }
    if (seconds < MIN_S)
    {
        throw InputError(key + ": " + text
                         + "below the simulator's 1 ns resolution, so it would round to 0 (min "
                         + ShortNumber(MIN_S, 3) + " s)");
    }
}

} // namespace

void
CheckComputeTimes(const ScenarioConfig& c)
{
    ModelConfig model = c.model;
    model.input = DatasetSampleShape(c.dataset);
    model.classes = DatasetClasses(c.dataset);
    const Architecture a = BuildArchitecture(model, c.seed);
    const Flops device = FlopsOf(a, 0, a.cut);
    const Flops server = FlopsOf(a, a.cut, a.layers.size());
    const int batch = c.training.batchSize;
    const auto& devices = c.network.devices;
    for (size_t d = 0; d < devices.size(); ++d)
    {
        const std::string key = "devices.gflops";
        const std::string who = "device " + std::to_string(d) + "'s ";
        Check(key, devices[d].gflops, device.forward, batch, who + "forward pass");
        Check(key, devices[d].gflops, device.backward, batch, who + "backward pass");
    }
    const double g = c.network.serverGflops;
    Check("network.server_gflops", g, server.forward + server.backward, batch, "a server step");
    Check("network.server_gflops", g, server.forward, c.training.evalBatch,
          "a server evaluation batch");
}

} // namespace slsim
