// Shared WiFi access (issue 16): the devices whose profile says access "wifi" are stations of one
// or more access points, built with ns-3's wifi module; each AP is wired to the hub, so the
// bottleneck to the server is unchanged.
//
//   station_j ~~(802.11n/ac/ax, one channel per AP)~~ AP_k --(ap_link_mbps, Ethernet)--> hub
//
// What is real: contention (EDCA, best-effort access category), collisions, MAC retries, block
// acknowledgements and A-MPDU aggregation, rate adaptation (Minstrel-HT) or a constant MCS, and
// the path loss over each station's distance (log-distance model; a constant position per node,
// no movement). Each AP's BSS has a channel of its own: BSSs do not interfere (as if on
// non-overlapping channels).
//
// Addresses: AP k's BSS is 10.160.0.0 + 4096 k (/20: up to 2007 stations, IEEE 802.11's AID
// limit, fit), its wired link to the hub 10.128.0.0 + 4 k (/30); the hub routes each BSS through
// its AP.
//
// Stations drop what IP gives them until they are associated (ns-3's StaWifiMac), so a device's
// application starts at its association at the earliest (WhenAssociated).
#ifndef SLSIM_SIM_WIFI_ACCESS_H
#define SLSIM_SIM_WIFI_ACCESS_H

#include "sim/network-config.h"

#include "ns3/internet-module.h"
#include "ns3/network-module.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace slsim
{

struct Network;

/// Wires an AP node to the hub (a point-to-point link with the transport's queues) and routes
/// the AP's BSS subnet (`network`/`mask`) through it; the AP's default route points to the hub.
using WireApToHub = std::function<void(ns3::Ptr<ns3::Node> ap, uint32_t apIndex,
                                       ns3::Ipv4Address network, ns3::Ipv4Mask mask)>;

/// Which AP each of `stations` WiFi devices joins (index into the APs), per the assignment rule.
std::vector<uint32_t> AssignStations(const WifiConfig& wifi, size_t stations);

/// Builds the APs and makes devices `stations` (indices into net->devices, ascending) their
/// stations. Fills net->deviceSide[i] (the station's WifiNetDevice) and net->hubSide[i] (its AP's
/// WifiNetDevice) for each station i, and net->accessPoints. `stream`: the next ns-3 random
/// stream number, advanced past the ones assigned.
void AddWifiAccess(const NetworkConfig& config, const std::vector<uint32_t>& stations,
                   const WireApToHub& wire, Network* net, int64_t* stream);

/// Whether a NetDevice is a WiFi one.
bool IsWifi(ns3::Ptr<ns3::NetDevice> device);

/// Switches a station's radio off (an outage, churn, a spent battery: it neither sends nor
/// hears anything, and loses its association after missed beacons) or back on.
void SetWifiRadio(ns3::Ptr<ns3::NetDevice> station, bool on);

/// Calls `then` once, when the station is first associated with its AP.
void WhenAssociated(ns3::Ptr<ns3::NetDevice> station, std::function<void()> then);

/// One transmission of a WiFi device (a PSDU: one MPDU or an A-MPDU), from the PHY's
/// PhyTxPsduBegin trace.
struct WifiTxRecord
{
    ns3::Mac48Address receiver; // the MPDUs' Addr1 (broadcast for beacons)
    double airtimeS = 0;        // the PPDU's duration (preamble included)
    uint32_t bytes = 0;         // the PSDU's size (MAC headers and FCS included)
    uint32_t mpdus = 0;
    uint32_t retries = 0; // of mpdus, sent again (the Retry bit, IEEE 802.11-2020 9.2.4.1.4)
};

/// Calls `onTx` for every PSDU `device` transmits.
void WatchWifiTx(ns3::Ptr<ns3::NetDevice> device, std::function<void(const WifiTxRecord&)> onTx);

/// Calls `onDrop(receiver, retryLimit)` for every MPDU the device's MAC drops: after its retry
/// limit (retryLimit true: lost on the air) or for another reason (a full queue, its lifetime).
void WatchWifiDrops(ns3::Ptr<ns3::NetDevice> device,
                    std::function<void(ns3::Mac48Address receiver, bool retryLimit)> onDrop);

/// The state of a station's radio as its PHY reports it (ns-3's WifiPhyListener): transmitting,
/// receiving (a frame it synchronised on, for it or not), or neither.
class WifiRadioWatch
{
  public:
    using Callback = std::function<void(bool tx, bool rx)>;
    /// Calls `onChange(tx, rx)` at every change of the radio's state; the watch must live until
    /// the simulation is destroyed or be destroyed before it.
    WifiRadioWatch(ns3::Ptr<ns3::NetDevice> station, Callback onChange);
    ~WifiRadioWatch();
    WifiRadioWatch(const WifiRadioWatch&) = delete;
    WifiRadioWatch& operator=(const WifiRadioWatch&) = delete;

  private:
    class Listener;
    std::unique_ptr<Listener> m_listener;
};

} // namespace slsim

#endif
