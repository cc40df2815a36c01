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
#ifndef SLSIM_SIM_CHURN_H
#define SLSIM_SIM_CHURN_H

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
        int outages = 0; // overlapping outages under way
        bool churnOff = false;
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

} // namespace slsim

#endif
