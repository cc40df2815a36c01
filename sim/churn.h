// Device availability: whether each device is reachable and powered, from every reason at once.
//
//   scheduled outage (faults.outages)  link drops everything; the device stays powered
//   churn off (faults.churn)           link drops everything and the device is switched off (no
//                                      idle radio power)
//   battery spent (sim/energy.h)       both, for good: nothing brings it back
//
// A device's link is down while any reason holds (reasons overlap: an outage inside a churn-off
// period ends without bringing the device back). Down is the access link's receive error models
// at loss 1 on both sides (TCP backs off and recovers when it ends); the server skips a silent
// device after faults.timeout_s. Every transition is an events.csv row.
//
// Churn comes from two sources (faults.churn), which may be combined:
//   file   a CSV of off intervals, header "device,off_s,on_s", one row per interval: the device
//          is switched off at off_s and back on at on_s (simulated seconds; on_s empty = for
//          good); '#' comments and blank lines allowed; a device's intervals must not overlap.
//          Example: "device,off_s,on_s\n1,0.5,2\n3,1,\n" -- device 1 off from 0.5 s to 2 s,
//          device 3 off from 1 s for good.
//   model  exponential on/off times: every device starts on, stays on for Exp(mean_on_s), off
//          for Exp(mean_off_s), and so on, drawn from its own stream Rng(seed, "churn", device);
//          each transition draws the next (nothing is drawn beyond the run's end), and no
//          switch-off is drawn at or after horizon_s (when > 0).
#ifndef SLSIM_SIM_CHURN_H
#define SLSIM_SIM_CHURN_H

#include "common/rng.h"
#include "sim/scenario-config.h"

#include <string>
#include <vector>

namespace slsim
{

class EnergyRecorder;
class MetricsCollector;
struct Network;

class Availability
{
  public:
    /// `loss`: each access link's own loss probability (restored when the device is back).
    /// `energy` may be null.
    Availability(Network* net, std::vector<double> loss, MetricsCollector* metrics,
                 EnergyRecorder* energy);

    /// The device's app starts (it powers on, if no churn keeps it off).
    void Start(int device);
    /// A scheduled outage begins / ends (events "offline" / "online").
    void OutageBegin(int device);
    void OutageEnd(int device);
    /// Churn switches the device off / on (events "churn_off" / "churn_on").
    void ChurnOff(int device);
    void ChurnOn(int device);
    /// The device's battery is spent: unreachable and off for good (event "battery_empty").
    void BatteryEmpty(int device);

    /// Whether the device's link carries packets now.
    bool Reachable(int device) const;

  private:
    struct State
    {
        int outages = 0;   // overlapping outages under way
        int churnOffs = 0; // overlapping churn-off periods (a listed one and a drawn one)
        bool empty = false;
        bool started = false;
        bool linkDown = false;
    };

    /// Applies the device's state to its link and its power.
    void Apply(int device);

    Network* m_net;
    std::vector<double> m_loss;
    MetricsCollector* m_metrics;
    EnergyRecorder* m_energy;
    std::vector<State> m_state;
};

/// Reads a churn file (format above). Throws InputError / CsvError naming the file and line.
std::vector<ChurnInterval> ReadChurnIntervals(const std::string& file);

/// An exponential draw with mean `mean` from `rng`: -mean ln(1 - U), U uniform in [0, 1).
double ExponentialDraw(Rng& rng, double mean);

/// Schedules every churn transition of `config` on `availability` (listed intervals at once,
/// the model's one at a time). Call before Simulator::Run; the object must outlive the run.
class ChurnSchedule
{
  public:
    ChurnSchedule(const ChurnConfig& config, int devices, uint64_t seed,
                  Availability* availability);

  private:
    /// Device `device` goes off now (model) and schedules its return.
    void ModelOff(int device);
    /// Device `device` comes back now (model) and schedules its next switch-off.
    void ModelOn(int device);

    ChurnConfig m_config;
    Availability* m_availability;
    std::vector<Rng> m_rng; // one stream per device
};

} // namespace slsim

#endif
