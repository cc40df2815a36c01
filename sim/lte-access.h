// Cellular access (an access technology, sim/README.md): the devices whose access is "lte" are UEs
// of ns-3's lte module, attached to eNodeBs with the EPC; the PGW is wired to the hub, so the path
// to the server (and its bottleneck) is the wired devices' one.
//
//   device (UE) ~~radio~~ eNodeB --S1-U-- SGW --S5-- PGW --(network.lte pgw link)--> hub
//            --(bottleneck)--> server
//
// ns-3's defaults throughout unless network.lte says otherwise (sim/network-config.h, LteConfig,
// names each default's source): PF scheduler, 25 RBs (5 MHz), Friis path loss, SISO, RLC UM,
// ideal RRC, no fading. UE i (the i-th LTE device) is attached to eNodeB i mod enb_count, placed
// on a circle of radius ue_distance_m around it; the eNodeBs are 4 x ue_distance_m apart on a
// line (neighbouring cells interfere, on one carrier, as in a frequency-reuse-1 network). The
// S1-U links are ns-3's PointToPointEpcHelper's (10 Gbit/s, 0 delay, MTU 2000) on 10.252.0.0/16,
// apart from the wired devices' 10.0.0.0 + 4i subnets (the helper's own 10.0.0.0 would collide).
//
// Loss and outages: LTE NetDevices take no receive error model, so each UE's pair of error models
// (Network::errorModels; churn and outages set them, sim/churn.h) are consulted where a packet
// for or from the UE enters IP: downlink at the UE's receive callback, uplink at the PGW's tunnel
// device (by source address). HARQ and RLC losses of the radio itself are ns-3's.
//
// Radio energy (sim/energy.h's state model): the UE transmits while its uplink LteSpectrumPhy
// sends a PUSCH data frame (TxStart .. TxEnd with a packet burst; ns-3's ideal PUCCH, sent without
// one, counts as idle); it receives during each 1 ms subframe in which its eNodeB
// sends it a transport block (LteEnbPhy's DlPhyTransmission, fired at the subframe's start, for
// the UE's RNTI). The control channel it decodes every subframe counts as idle; RRC state tails
// (Huang et al., MobiSys 2012) are not modelled.
#ifndef SLSIM_SIM_LTE_ACCESS_H
#define SLSIM_SIM_LTE_ACCESS_H

#include "sim/network-config.h"

#include "ns3/lte-common.h"
#include "ns3/net-device.h"
#include "ns3/node.h"
#include "ns3/ptr.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

namespace ns3
{
class LteHelper;
class NoBackhaulEpcHelper;
class RateErrorModel;
} // namespace ns3

namespace slsim
{

class EnergyRecorder;
struct Network;
struct TcpConfig;

/// The eNodeB's RLC buffer for `lte` (LteConfig::rlcBufferBytes, or sized from the cell's peak
/// rate and the round trip through `bottleneckDelayMs`).
uint32_t LteRlcBufferBytes(const LteConfig& lte, const TcpConfig& tcp, double bottleneckDelayMs);

/// Peak rate of one LTE carrier of `rbs` resource blocks, one direction, SISO, Mbit/s: the
/// largest transport block (TS 36.213 Table 7.1.7.2.1-1, I_TBS 26) per 1 ms subframe.
double LtePeakMbps(uint32_t rbs);

class LteAccess
{
  public:
    /// Builds the cells and makes the devices `ues` (indices into net->devices, ascending) their
    /// UEs: their deviceSide is the UE's NetDevice, hubSide its eNodeB's; their error models
    /// (already in net->errorModels) are consulted as above. `tcp` sizes the PGW link's queues.
    /// `stream`: the next ns-3 random stream (advanced past the ones used).
    LteAccess(const NetworkConfig& config, const TcpConfig& tcp, const std::vector<uint32_t>& ues,
              Network* net, int64_t* stream);
    LteAccess(const LteAccess&) = delete;
    LteAccess& operator=(const LteAccess&) = delete;
    ~LteAccess();

    /// Calls `ready` once device `device`'s UE can carry data (its default bearer's radio bearer
    /// exists: LteUeRrc's DrbCreated), or now if it already can. Packets sent before are lost
    /// (ns-3's EpcUeNas drops them): a phone's app starts once its radio has attached.
    void WhenAttached(int device, std::function<void()> ready);

    /// Feeds the UEs' radio states to `energy` (which must outlive the run).
    void WatchRadio(EnergyRecorder* energy);

  private:
    struct Ue
    {
        int device = 0;
        ns3::Ptr<ns3::NetDevice> dev;
        bool rx = false;
        int64_t rxUntilNs = 0; // end of the last subframe with a transport block for it
        bool attached = false;
        std::vector<std::function<void()>> whenAttached;
    };

    void OnConnected(size_t ue, uint64_t imsi, uint16_t cellId, uint16_t rnti);
    void OnDrbCreated(size_t ue, uint64_t imsi, uint16_t cellId, uint16_t rnti, uint8_t lcid);
    void OnDlTransmission(ns3::PhyTransmissionStatParameters params);
    void EndRx(size_t ue);
    bool UplinkGate(ns3::Ptr<ns3::NetDevice> dev, ns3::Ptr<const ns3::Packet> p, uint16_t protocol,
                    const ns3::Address& from);

    ns3::Ptr<ns3::LteHelper> m_lte;
    ns3::Ptr<ns3::NoBackhaulEpcHelper> m_epc;
    ns3::Ptr<ns3::Node> m_pgw;
    std::vector<Ue> m_ues;
    std::vector<ns3::Ptr<ns3::NetDevice>> m_enbs;
    std::unordered_map<uint32_t, ns3::Ptr<ns3::RateErrorModel>> m_uplinkLoss; // by UE address
    std::unordered_map<uint32_t, size_t> m_ueByCellRnti; // (cellId << 16 | rnti) -> m_ues index
    std::unordered_map<int, size_t> m_ueByDevice;
    EnergyRecorder* m_energy = nullptr;
};

} // namespace slsim

#endif
