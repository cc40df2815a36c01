// Energy per device: a recorder (sim/README.md, "Recorders") of what each device spends computing
// and on its access radio, and of when a battery runs out.
//
// Compute: power while computing (DeviceProfile::ComputePowerW: compute_w, or joules_per_gflop *
// gflops) times the device's forward and backward seconds. A forward pass is charged when it
// starts (StepStarted carries its length), a backward pass when it ends (StepCompleted); a
// U-shaped device's head (its forward and backward, between the server output's arrival and the
// head gradient's departure) when it starts (HeadStarted), like a forward pass.
//
// Radio, a state model over the access link (point-to-point: full duplex):
//   P = radio_tx_w             while the device's NetDevice transmits (PhyTxBegin .. PhyTxEnd)
//       radio_rx_w             while a packet arrives (the hub side's PhyTxBegin .. PhyTxEnd,
//                              shifted by the link's propagation delay)
//       tx_w + rx_w - idle_w   both at once (two chains above one baseline)
//       radio_idle_w           otherwise, while the device is powered (from its app's start, until
//                              the run ends, it is switched off by churn, or its battery is spent)
// integrated exactly between state changes (piecewise-constant power). A WiFi station's radio
// (half duplex) is in the state its PHY reports (sim/wifi-access.h, WifiRadioWatch: the listener
// ns-3's WifiRadioEnergyModel uses): transmitting, receiving any frame it synchronised on, or idle
// (CCA busy counts as idle, as in WifiRadioEnergyModel's default currents); it draws nothing while
// its radio is switched off. Example: 1 MB sent at
// 10 Mbit/s takes 0.8 s (plus headers); at tx 1.5 W over an idle 0.5 W that is 1.2 J, not 0.4 J.
//
// Battery: with a capacity, the device is empty at the first instant compute + radio energy
// reaches it (checked at every charge and radio state change, and at the instant the current
// power would spend the rest); the recorder then calls the drop-out callback once and charges
// nothing more.
#ifndef SLSIM_SIM_ENERGY_H
#define SLSIM_SIM_ENERGY_H

#include "common/byte-io.h"
#include "sim/app-signals.h"
#include "sim/network-config.h"

#include "ns3/event-id.h"
#include "ns3/ptr.h"

#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <utility>
#include <vector>

namespace slsim
{

class DeviceApp;
class WifiRadioWatch;
struct Network;

/// Energy of one device, cumulative (J, s).
struct DeviceEnergy
{
    double computeJ = 0;
    double radioJ = 0;
    double txS = 0; // time its radio transmitted
    double rxS = 0; // time its radio received
    /// Simulated instant its battery was spent; NaN: never (or no battery).
    double emptyAtS = std::numeric_limits<double>::quiet_NaN();
};

/// Energy of one step (in StepCompleted order: the order of steps.csv's rows).
struct StepEnergy
{
    double computeJ = 0; // its forward and backward passes
    double radioJ = 0;   // the radio from the step's start to its end
};

class EnergyRecorder
{
  public:
    /// `profiles`: one per device (power figures and capacity). `onEmpty(d)` is called once, at
    /// the instant device d's battery is spent.
    EnergyRecorder(const std::vector<DeviceProfile>& profiles, std::function<void(int)> onEmpty);
    ~EnergyRecorder();
    EnergyRecorder(const EnergyRecorder&) = delete;
    EnergyRecorder& operator=(const EnergyRecorder&) = delete;

    /// Connects to the point-to-point access links' NetDevices (PhyTxBegin/PhyTxEnd both sides),
    /// or to a WiFi station's PHY. `delaysS`: the one-way propagation delay of each access link
    /// (0 for LTE, whose builder calls OnTx/OnHubTx at the radio's own instants:
    /// LteAccess::WatchRadio).
    void WatchLinks(const Network& net, const std::vector<double>& delaysS);
    /// Connects to a device app's StepStarted, StepCompleted and HeadStarted (U-shaped).
    void Watch(ns3::Ptr<DeviceApp> app);

    /// Device d is switched on (its app starts, churn brings it back) or off (churn): idle power
    /// is drawn only while it is on.
    void SetPowered(int device, bool on);
    /// Integrates every device up to now (call at the run's end, before Simulator::Destroy).
    void Finish();

    /// Run-state checkpoints (sim/run-state.h), at a round start: integrates every device up to
    /// now and saves its totals, power state and the per-step rows. Load (before the run starts)
    /// continues from them at the checkpoint's instant with the radios idle; it throws
    /// DecodeError when the device count differs.
    void SaveState(ByteWriter& out);
    void LoadState(ByteReader& in);

    const DeviceEnergy& Device(int d) const
    {
        return m_devices[static_cast<size_t>(d)].energy;
    }

    const std::vector<StepEnergy>& Steps() const
    {
        return m_steps;
    }

    /// Sum over every device.
    DeviceEnergy Total() const;
    /// Devices whose battery was spent.
    int Emptied() const;

    // What the trace sources deliver (public so that a test can drive a recorder directly).
    void OnTx(int device, bool begin);
    void OnHubTx(int device, bool begin);       // the hub side transmits to the device
    void OnRadio(int device, bool tx, bool rx); // a WiFi radio's state changed
    void OnStepStarted(const StepStartRecord& start);
    void OnStepCompleted(const StepEndRecord& end);
    void OnHeadStarted(const HeadStartRecord& head);

  private:
    struct State
    {
        DeviceProfile profile;
        DeviceEnergy energy;
        double capacityJ = 0; // 0 = unlimited
        double lastS = 0;     // integrated up to here
        double delayS = 0;    // hub -> device propagation delay
        bool powered = false;
        bool tx = false;
        bool rx = false;
        bool empty = false;
        /// Receive state changes still ahead (the hub's transmissions, delayed), in time order.
        std::deque<std::pair<double, bool>> rxChanges;
        double stepStartRadioJ = 0;
        double stepComputeJ = 0;
        ns3::EventId check; // the predicted instant the battery is spent
    };

    double PowerW(const State& s) const;
    /// Integrates device d's radio energy from its last change up to `t`.
    void Advance(State& s, double t);
    /// Charges compute energy (J), then checks the battery and plans the next check.
    void Charge(int device, double computeJ);
    void CheckBattery(int device);

    std::vector<State> m_devices;
    std::vector<StepEnergy> m_steps;
    std::function<void(int)> m_onEmpty;
    std::vector<std::unique_ptr<WifiRadioWatch>> m_radios;
};

} // namespace slsim

#endif
