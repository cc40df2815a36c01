// Energy per device: the radio state model against hand-computed sums, battery drop-out, and a
// one-device, one-step run whose compute and radio energy are computed by hand.
#include "models/split-model.h"
#include "sim/energy.h"
#include "sim/run.h"
#include "tests/sim/run-output.h"
#include "tests/sim/tiny-scenario.h"

#include "ns3/simulator.h"

#include <catch2/catch.hpp>
#include <cmath>

using namespace slsim;

namespace
{

/// Runs `f` at simulated time t (seconds).
template <class F>
void
At(double t, F f)
{
    ns3::Simulator::Schedule(ns3::Seconds(t), f);
}

} // namespace

TEST_CASE("The radio state model integrates transmit, receive, both and idle power",
          "[sim][energy]")
{
    DeviceProfile p;
    p.radioTxW = 2;
    p.radioRxW = 1;
    p.radioIdleW = 0.25;
    p.computeW = 4;
    // Powered 0.5..10 s. Transmits 1..3 s, receives 3..5 s (the hub's sends, zero delay here).
    // Computes 0.5 s forward at 6 s, 1 s backward ending at 8 s.
    EnergyRecorder r({p}, [](int) { FAIL("no battery"); });
    At(0.5, [&] { r.SetPowered(0, true); });
    At(1, [&] { r.OnTx(0, true); });
    At(3, [&] { r.OnTx(0, false); });
    At(3, [&] { r.OnHubTx(0, true); });
    At(5, [&] { r.OnHubTx(0, false); });
    At(6, [&] { r.OnStepStarted(StepStartRecord{0, 1, 1, 10, 0, 0.5}); });
    At(8, [&] { r.OnStepCompleted(StepEndRecord{0, 1, 100, 1.0}); });
    At(10, [&] { r.SetPowered(0, false); });
    At(12, [&] { r.Finish(); });
    ns3::Simulator::Run();
    ns3::Simulator::Destroy();
    const DeviceEnergy& d = r.Device(0);
    // tx 2 s at 2 W, rx 2 s at 1 W, idle 9.5 - 4 = 5.5 s at 0.25 W
    CHECK(d.txS == Approx(2).epsilon(1e-12));
    CHECK(d.rxS == Approx(2).epsilon(1e-12));
    CHECK(d.radioJ == Approx(2 * 2 + 1 * 2 + 0.25 * 5.5).epsilon(1e-12));
    CHECK(d.computeJ == Approx(4 * 1.5).epsilon(1e-12));
    REQUIRE(r.Steps().size() == 1);
    CHECK(r.Steps()[0].computeJ == Approx(6).epsilon(1e-12));
    CHECK(r.Steps()[0].radioJ == Approx(0.25 * 2).epsilon(1e-12)); // idle 6..8 s
    CHECK(std::isnan(d.emptyAtS));
}

TEST_CASE("Overlapping transmit and receive draw tx + rx - idle", "[sim][energy]")
{
    DeviceProfile p;
    p.radioTxW = 2;
    p.radioRxW = 1;
    p.radioIdleW = 0.5;
    EnergyRecorder r({p}, [](int) {});
    At(0, [&] { r.SetPowered(0, true); });
    At(1, [&] { r.OnTx(0, true); });
    At(2, [&] { r.OnHubTx(0, true); }); // both 2..3
    At(3, [&] { r.OnTx(0, false); });
    At(4, [&] { r.OnHubTx(0, false); });
    At(5, [&] { r.Finish(); });
    ns3::Simulator::Run();
    ns3::Simulator::Destroy();
    // idle 0..1, 4..5; tx 1..2; both 2..3; rx 3..4. Equals idle*T + (tx-idle)*Ttx + (rx-idle)*Trx.
    const double byState = 0.5 * 2 + 2 * 1 + (2 + 1 - 0.5) * 1 + 1 * 1;
    CHECK(r.Device(0).radioJ == Approx(byState).epsilon(1e-12));
    CHECK(r.Device(0).radioJ == Approx(0.5 * 5 + 1.5 * 2 + 0.5 * 2).epsilon(1e-12));
}

TEST_CASE("A battery is spent at the instant the power would spend it", "[sim][energy]")
{
    DeviceProfile p;
    p.radioTxW = 3;
    p.radioIdleW = 1;
    p.batteryJ = 10;
    std::vector<double> emptied;
    EnergyRecorder r({p}, [&](int d) {
        CHECK(d == 0);
        emptied.push_back(ns3::Simulator::Now().GetSeconds());
    });
    // idle 0..2 s (2 J), tx from 2 s: 8 J left at 3 W -> empty at 2 + 8/3 s.
    At(0, [&] { r.SetPowered(0, true); });
    At(2, [&] { r.OnTx(0, true); });
    At(100, [&] { r.Finish(); });
    ns3::Simulator::Run();
    ns3::Simulator::Destroy();
    REQUIRE(emptied.size() == 1);
    CHECK(emptied[0] == Approx(2 + 8.0 / 3).epsilon(1e-9));
    CHECK(r.Device(0).emptyAtS == emptied[0]);
    CHECK(r.Device(0).radioJ == Approx(10).epsilon(1e-8)); // nothing after the drop-out
    CHECK(r.Emptied() == 1);
}

TEST_CASE("One device, one step: compute and radio energy equal their hand-computed values",
          "[sim][energy][run]")
{
    ScenarioConfig c = Tiny("sequential", 1);
    c.dataset.syntheticTrain = 20; // one batch of 20: one step
    c.training.epochs = 1;
    c.network.startJitterS = 0; // powered from t = 0
    DeviceProfile& p = c.network.devices[0];
    p.joulesPerGflop = 0.7;
    p.radioTxW = 1.3;
    p.radioRxW = 0.9;
    p.radioIdleW = 0.2;
    const std::string dir = TempDir("energy-one-step");
    const RunSummary s = RunScenario(c, dir);
    REQUIRE(s.steps == 1);

    // Compute: J/GFLOP x the device partition's FLOPs for one batch, forward and backward.
    ModelConfig m = c.model;
    m.input = Shape{1, 8, 8};
    m.classes = 10;
    const Flops f = BuildSplitModel(m, c.optimizer, c.seed).device->FlopsPerSample();
    const double computeJ = 0.7 * (f.forward + f.backward) * 20 / 1e9;

    // Radio: idle over the run, plus (tx - idle) while the uplink carried its link-layer bytes
    // and (rx - idle) while the downlink did (a point-to-point link sends 8 bits per bit time).
    const auto device = ReadCsv(dir + "/devices.csv").at(0);
    const double txS = std::stod(device.at("wire_bytes_up")) * 8 / (p.uplinkMbps * 1e6);
    const double rxS = std::stod(device.at("wire_bytes_down")) * 8 / (p.downlinkMbps * 1e6);
    const double radioJ = 0.2 * s.simTimeS + (1.3 - 0.2) * txS + (0.9 - 0.2) * rxS;

    const auto step = ReadCsv(dir + "/steps.csv").at(0);
    const auto summary = ReadCsv(dir + "/summary.csv").at(0);
    CHECK(std::stod(step.at("compute_j")) == Approx(computeJ).epsilon(1e-12));
    CHECK(std::stod(device.at("compute_j")) == Approx(computeJ).epsilon(1e-12));
    CHECK(std::stod(summary.at("compute_j")) == Approx(computeJ).epsilon(1e-12));
    CHECK(std::stod(device.at("radio_tx_s")) == Approx(txS).epsilon(1e-6));
    CHECK(std::stod(device.at("radio_rx_s")) == Approx(rxS).epsilon(1e-6));
    CHECK(std::stod(device.at("radio_j")) == Approx(radioJ).epsilon(1e-6));
    CHECK(std::stod(summary.at("radio_j")) == Approx(radioJ).epsilon(1e-6));
    // The step's radio energy is that of its own interval, part of the device's.
    CHECK(std::stod(step.at("radio_j")) > 0);
    CHECK(std::stod(step.at("radio_j")) < radioJ);
    CHECK(device.at("battery_empty_s").empty());
    CHECK(summary.at("battery_dropouts") == "0");
}

TEST_CASE("A device whose battery runs out drops out and the run goes on", "[sim][energy][run]")
{
    ScenarioConfig c = Tiny("splitfed_v2", 3);
    c.faults.timeoutS = 1;
    for (DeviceProfile& p : c.network.devices)
    {
        p.computeW = 5;
        p.radioTxW = 2;
        p.radioRxW = 1;
        p.radioIdleW = 0.5;
    }
    c.network.devices[1].batteryJ = 0.05; // 0.1 s of idle radio
    const std::string dir = TempDir("energy-battery");
    const RunSummary s = RunScenario(c, dir);
    CHECK(s.batteryDropouts == 1);
    CHECK(s.rounds == 2);
    const auto devices = ReadCsv(dir + "/devices.csv");
    const double emptyAt = std::stod(devices.at(1).at("battery_empty_s"));
    CHECK(emptyAt > 0);
    CHECK(emptyAt < 0.11);
    CHECK(std::stod(devices.at(1).at("compute_j")) + std::stod(devices.at(1).at("radio_j"))
          == Approx(0.05).epsilon(1e-6));
    CHECK(devices.at(0).at("battery_empty_s").empty());
    bool recorded = false;
    for (const auto& e : ReadCsv(dir + "/events.csv"))
    {
        recorded |= e.at("event") == "battery_empty" && e.at("device") == "1"
                    && std::stod(e.at("sim_time_s")) == emptyAt;
    }
    CHECK(recorded);
    // The others trained both rounds (4 steps each); device 1 none after its battery ran out.
    int steps1 = 0, steps0 = 0;
    for (const auto& r : ReadCsv(dir + "/steps.csv"))
    {
        steps0 += r.at("device") == "0";
        if (r.at("device") == "1")
        {
            ++steps1;
            CHECK(std::stod(r.at("sim_time_s")) <= emptyAt);
        }
    }
    CHECK(steps0 == 8);
    CHECK(steps1 < 8);
}
