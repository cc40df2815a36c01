// The small synthetic scenario the sim tests share: an MLP cut after its first hidden layer,
// 240 training samples, ms-coded activations, 5/20 Mbit/s links.
#ifndef SLSIM_TESTS_SIM_TINY_SCENARIO_H
#define SLSIM_TESTS_SIM_TINY_SCENARIO_H

#include "sim/scenario-config.h"

#include <string>

namespace slsim
{

inline ScenarioConfig
Tiny(const std::string& schedule, int devices)
{
    ScenarioConfig c;
    c.seed = 7;
    c.dataset.name = "synthetic";
    c.dataset.syntheticTrain = 240;
    c.dataset.syntheticTest = 100;
    c.model.name = "mlp";
    c.model.hidden = {32, 16};
    c.model.cut = "shallow";
    c.model.threads = 1;
    c.optimizer.lr = 0.05;
    c.uplink.method = "ms";
    c.uplink.sparsity = 0.9;
    c.uplink.bits = 2;
    c.schedule.kind = schedule;
    c.training.batchSize = 20;
    c.training.epochs = 2;
    DeviceProfile p;
    p.uplinkMbps = 5;
    p.downlinkMbps = 20;
    p.delayMs = 3;
    p.gflops = 2;
    c.network.devices.assign(static_cast<size_t>(devices), p);
    return c;
}

} // namespace slsim

#endif
