#include "sim/lte-access.h"

#include "common/error.h"
#include "sim/energy.h"
#include "sim/hub-routing.h"
#include "sim/topology.h"

#include "ns3/core-module.h"
#include "ns3/internet-module.h"
#include "ns3/lte-module.h"
#include "ns3/mobility-module.h"
#include "ns3/point-to-point-module.h"
#include "ns3/traffic-control-module.h"
#include "ns3/virtual-net-device.h"

#include <algorithm>
#include <cmath>

namespace slsim
{
namespace
{

/// The largest transport block per subframe (bits) for the RB counts TS 36.101 allows: TS 36.213
/// Table 7.1.7.2.1-1 at I_TBS 26 (MCS 28, ns-3's highest, lte-amc.cc's McsToItbsDl/Ul).
uint32_t
PeakTbsBits(uint32_t rbs)
{
    switch (rbs)
    {
    case 6:
        return 4392;
    case 15:
        return 11064;
    case 25:
        return 18336;
    case 50:
        return 36696;
    case 75:
        return 55056;
    case 100:
        return 75376;
    }
    SLSIM_ASSERT(false);
    return 0;
}

/// The smallest SRS periodicity (ms) ns-3 accepts (TS 36.213 Table 8.2-1: 2 ... 320) that gives
/// every UE of a cell its own SRS configuration index: ns-3's eNodeB refuses a UE beyond it.
uint32_t
SrsPeriodicity(size_t uesPerCell)
{
    for (const uint32_t p : {2u, 5u, 10u, 20u, 40u, 80u, 160u, 320u})
    {
        if (p > uesPerCell) // one index short of p: ns-3 keeps the set below the periodicity
        {
            return p;
        }
    }
    SLSIM_ASSERT(false); // validation caps the UEs per cell (app/scenario-keys.cc)
    return 320;
}

std::string
Rate(double mbps)
{
    return std::to_string(static_cast<uint64_t>(mbps * 1e6 + 0.5)) + "bps";
}

/// A packet the UE receives: dropped when its downlink error model says so (an outage, churn,
/// `loss`), else handed to IPv4 through the node's traffic-control layer as the node would.
bool
DownlinkGate(ns3::Ptr<ns3::RateErrorModel> loss, ns3::Ptr<ns3::TrafficControlLayer> tc,
             ns3::Ptr<ns3::NetDevice> dev, ns3::Ptr<const ns3::Packet> p, uint16_t protocol,
             const ns3::Address& from)
{
    if (loss->IsCorrupt(ns3::ConstCast<ns3::Packet>(p)))
    {
        return true;
    }
    tc->Receive(dev, p, protocol, from, dev->GetAddress(), ns3::NetDevice::PacketType(0));
    return true;
}

} // namespace

double
LtePeakMbps(uint32_t rbs)
{
    return PeakTbsBits(rbs) / 1e3; // bits per 1 ms subframe
}

uint32_t
LteRlcBufferBytes(const LteConfig& lte, const TcpConfig& tcp, double bottleneckDelayMs)
{
    if (lte.rlcBufferBytes > 0)
    {
        return lte.rlcBufferBytes;
    }
    // queue_bdp_factor x peak rate x the round trip TCP sees. The radio's share: the LTE
    // user-plane latency requirement, 5 ms each way (3GPP TR 25.913 section 7.2.1), plus the
    // uplink's scheduling loop (a buffer status report, the grant 4 subframes later, TS 36.213
    // section 8, and 8-ms HARQ round trips): 30 ms in all. A buffer sized without the loop (10
    // ms) held the uplink to 73 % of the cell's rate here (tests/sim/test-lte-access.cc). At
    // least ns-3's 10 KiB default.
    const double rttS = 2 * (lte.pgwDelayMs + bottleneckDelayMs) / 1e3 + 0.030;
    const double bytes = tcp.queueBdpFactor * LtePeakMbps(lte.bandwidthRbs) * 1e6 / 8 * rttS;
    return std::max<uint32_t>(10 * 1024, static_cast<uint32_t>(std::ceil(bytes)));
}

LteAccess::LteAccess(const NetworkConfig& config, const TcpConfig& tcp,
                     const std::vector<uint32_t>& ues, Network* net, int64_t* stream)
{
    using namespace ns3;
    SLSIM_ASSERT(!ues.empty());
    const LteConfig& lte = config.lte;
    // RLC objects are made when bearers are set up, during the run: defaults, set on every run.
    const uint32_t rlcBytes = LteRlcBufferBytes(lte, tcp, config.bottleneckDelayMs);
    Config::SetDefault("ns3::LteRlcUm::MaxTxBufferSize", UintegerValue(rlcBytes));
    Config::SetDefault("ns3::LteEnbPhy::TxPower", DoubleValue(lte.enbTxPowerDbm));
    Config::SetDefault("ns3::LteUePhy::TxPower", DoubleValue(lte.ueTxPowerDbm));

    m_lte = CreateObject<LteHelper>();
    m_epc = CreateObject<NoBackhaulEpcHelper>();
    m_lte->SetEpcHelper(m_epc);
    const std::string scheduler = "ns3::" + lte.scheduler + "FfMacScheduler";
    TypeId schedulerType;
    SLSIM_ASSERT(TypeId::LookupByNameFailSafe(scheduler, &schedulerType));
    m_lte->SetSchedulerType(scheduler);
    if (lte.pathLoss == "log_distance")
    {
        m_lte->SetPathlossModelType(LogDistancePropagationLossModel::GetTypeId());
    }
    else
    {
        m_lte->SetPathlossModelType(FriisPropagationLossModel::GetTypeId());
    }
    m_lte->SetEnbDeviceAttribute("DlBandwidth", UintegerValue(lte.bandwidthRbs));
    m_lte->SetEnbDeviceAttribute("UlBandwidth", UintegerValue(lte.bandwidthRbs));

    // eNodeBs on a line, 4 x the UE distance apart; UEs on circles around them.
    const uint32_t cells = lte.enbCount;
    NodeContainer enbNodes;
    enbNodes.Create(cells);
    Ptr<ListPositionAllocator> positions = CreateObject<ListPositionAllocator>();
    for (uint32_t j = 0; j < cells; ++j)
    {
        positions->Add(Vector(4 * lte.ueDistanceM * j, 0, 0));
    }
    std::vector<size_t> perCell(cells, 0);
    for (size_t u = 0; u < ues.size(); ++u)
    {
        ++perCell[u % cells];
    }
    NodeContainer ueNodes;
    for (size_t u = 0; u < ues.size(); ++u)
    {
        const uint32_t cell = static_cast<uint32_t>(u % cells);
        const double angle = 2 * M_PI * double(u / cells) / double(perCell[cell]);
        positions->Add(Vector(4 * lte.ueDistanceM * cell + lte.ueDistanceM * std::cos(angle),
                              lte.ueDistanceM * std::sin(angle), 0));
        ueNodes.Add(net->devices.Get(ues[u]));
    }
    MobilityHelper mobility;
    mobility.SetMobilityModel("ns3::ConstantPositionMobilityModel");
    mobility.SetPositionAllocator(positions);
    mobility.Install(enbNodes);
    mobility.Install(ueNodes);

    NetDeviceContainer enbDevs = m_lte->InstallEnbDevice(enbNodes);
    NetDeviceContainer ueDevs = m_lte->InstallUeDevice(ueNodes);
    const uint32_t srs = SrsPeriodicity(*std::max_element(perCell.begin(), perCell.end()));
    for (uint32_t j = 0; j < cells; ++j)
    {
        // Before any UE attaches (it takes an SRS index then).
        enbDevs.Get(j)->GetObject<LteEnbNetDevice>()->GetRrc()->SetAttribute("SrsPeriodicity",
                                                                             UintegerValue(srs));
        m_enbs.push_back(enbDevs.Get(j));
    }
    *stream += m_lte->AssignStreams(enbDevs, *stream);
    *stream += m_lte->AssignStreams(ueDevs, *stream);
    *stream += m_epc->AssignStreams(*stream);

    // S1-U links eNodeB <-> SGW: PointToPointEpcHelper's S1uLinkDataRate/Delay/Mtu defaults.
    Ptr<Node> sgw = m_epc->GetSgwNode();
    PointToPointHelper s1u;
    s1u.SetDeviceAttribute("DataRate", StringValue("10Gbps"));
    s1u.SetDeviceAttribute("Mtu", UintegerValue(2000));
    s1u.SetChannelAttribute("Delay", StringValue("0s"));
    Ipv4AddressHelper s1uAddress;
    s1uAddress.SetBase("10.252.0.0", "255.255.255.252");
    for (uint32_t j = 0; j < cells; ++j)
    {
        NetDeviceContainer link = s1u.Install(sgw, enbNodes.Get(j));
        Ipv4InterfaceContainer ifs = s1uAddress.Assign(link);
        s1uAddress.NewNetwork();
        const auto cellId = enbDevs.Get(j)->GetObject<LteEnbNetDevice>()->GetCellId();
        m_epc->AddS1Interface(enbNodes.Get(j), ifs.GetAddress(1), ifs.GetAddress(0), {cellId});
    }

    // PGW <-> hub, queues and queue discs as on any link of the network.
    m_pgw = m_epc->GetPgwNode();
    PointToPointHelper p2p;
    p2p.SetDeviceAttribute("DataRate", StringValue(Rate(lte.pgwMbps)));
    p2p.SetChannelAttribute("Delay",
                            StringValue(std::to_string(std::llround(lte.pgwDelayMs * 1e6)) + "ns"));
    NetDeviceContainer core = p2p.Install(m_pgw, net->hub);
    const double rttMs = 2 * (lte.pgwDelayMs + config.bottleneckDelayMs) + 30; // as above
    for (uint32_t side = 0; side < 2; ++side)
    {
        core.Get(side)->GetObject<PointToPointNetDevice>()->GetQueue()->SetMaxSize(
            DeviceQueue(tcp, lte.pgwMbps, rttMs));
    }
    InstallQueueDisc(tcp, core);
    Ipv4AddressHelper address;
    address.SetBase("10.254.0.0", "255.255.255.252");
    Ipv4InterfaceContainer coreIf = address.Assign(core);
    if (tcp.aqm == "none")
    {
        TrafficControlHelper().Uninstall(core);
    }
    Ipv4StaticRoutingHelper routing;
    Ptr<Ipv4> pgwIpv4 = m_pgw->GetObject<Ipv4>();
    routing.GetStaticRouting(pgwIpv4)->SetDefaultRoute(
        coreIf.GetAddress(1), static_cast<uint32_t>(pgwIpv4->GetInterfaceForDevice(core.Get(0))));
    Ptr<Ipv4> hubIpv4 = net->hub->GetObject<Ipv4>();
    const auto hubIf = static_cast<uint32_t>(hubIpv4->GetInterfaceForDevice(core.Get(1)));
    FindHubRouting(net->hub)->AddNetworkRoute(Ipv4Address("7.0.0.0"), Ipv4Mask("255.0.0.0"),
                                              coreIf.GetAddress(0), hubIf);

    // UEs: addresses from the EPC (7.0.0.0/8), default route through it, attached to their cell.
    Ipv4InterfaceContainer ueIfs = m_epc->AssignUeIpv4Address(ueDevs);
    for (size_t u = 0; u < ues.size(); ++u)
    {
        const uint32_t d = ues[u];
        Ptr<Node> node = net->devices.Get(d);
        routing.GetStaticRouting(node->GetObject<Ipv4>())
            ->SetDefaultRoute(m_epc->GetUeDefaultGatewayAddress(), 1);
        m_lte->Attach(ueDevs.Get(static_cast<uint32_t>(u)),
                      enbDevs.Get(static_cast<uint32_t>(u % cells)));
        Ue ue;
        ue.device = static_cast<int>(d);
        ue.dev = ueDevs.Get(static_cast<uint32_t>(u));
        m_ues.push_back(ue);
        net->deviceSide[d] = ue.dev;
        net->hubSide[d] = enbDevs.Get(static_cast<uint32_t>(u % cells));
        ue.dev->SetReceiveCallback(MakeBoundCallback(&DownlinkGate, net->errorModels[2 * d],
                                                     node->GetObject<TrafficControlLayer>()));
        m_uplinkLoss[ueIfs.GetAddress(static_cast<uint32_t>(u)).Get()]
            = net->errorModels[2 * d + 1];
        Ptr<LteUeRrc> rrc = ue.dev->GetObject<LteUeNetDevice>()->GetRrc();
        rrc->TraceConnectWithoutContext("ConnectionEstablished",
                                        MakeCallback(&LteAccess::OnConnected, this).Bind(u));
        rrc->TraceConnectWithoutContext("DrbCreated",
                                        MakeCallback(&LteAccess::OnDrbCreated, this).Bind(u));
        m_ueByDevice[ue.device] = u;
    }
    // Uplink packets leave the EPC through the PGW's tunnel device.
    for (uint32_t i = 0; i < m_pgw->GetNDevices(); ++i)
    {
        if (Ptr<VirtualNetDevice> tun = DynamicCast<VirtualNetDevice>(m_pgw->GetDevice(i)))
        {
            tun->SetReceiveCallback(MakeCallback(&LteAccess::UplinkGate, this));
        }
    }
}

LteAccess::~LteAccess() = default;

bool
LteAccess::UplinkGate(ns3::Ptr<ns3::NetDevice> dev, ns3::Ptr<const ns3::Packet> p,
                      uint16_t protocol, const ns3::Address& from)
{
    using namespace ns3;
    Ipv4Header h;
    if (p->PeekHeader(h) != 0)
    {
        auto it = m_uplinkLoss.find(h.GetSource().Get());
        if (it != m_uplinkLoss.end() && it->second->IsCorrupt(ConstCast<Packet>(p)))
        {
            return true;
        }
    }
    m_pgw->GetObject<TrafficControlLayer>()->Receive(dev, p, protocol, from, dev->GetAddress(),
                                                     NetDevice::PacketType(0));
    return true;
}

void
LteAccess::OnConnected(size_t ue, uint64_t, uint16_t cellId, uint16_t rnti)
{
    m_ueByCellRnti[uint32_t(cellId) << 16 | rnti] = ue;
}

void
LteAccess::OnDrbCreated(size_t index, uint64_t, uint16_t, uint16_t, uint8_t)
{
    Ue& ue = m_ues[index];
    if (ue.attached)
    {
        return;
    }
    ue.attached = true;
    for (const std::function<void()>& ready : ue.whenAttached)
    {
        ready();
    }
    ue.whenAttached.clear();
}

void
LteAccess::WhenAttached(int device, std::function<void()> ready)
{
    Ue& ue = m_ues[m_ueByDevice.at(device)];
    if (ue.attached)
    {
        ready();
    }
    else
    {
        ue.whenAttached.push_back(std::move(ready));
    }
}

void
LteAccess::WatchRadio(EnergyRecorder* energy)
{
    using namespace ns3;
    using BurstCallback = Callback<void, Ptr<const PacketBurst>>;
    m_energy = energy;
    for (const Ue& ue : m_ues)
    {
        const int d = ue.device;
        Ptr<LteSpectrumPhy> ul
            = ue.dev->GetObject<LteUeNetDevice>()->GetPhy()->GetUplinkSpectrumPhy();
        // A frame with a packet burst is PUSCH data; one without is ns-3's ideal PUCCH (CQI,
        // scheduling requests in a null bandwidth), counted as idle.
        for (const bool begin : {true, false})
        {
            ul->TraceConnectWithoutContext(
                begin ? "TxStart" : "TxEnd",
                BurstCallback([energy, d, begin](Ptr<const PacketBurst> pb) {
                    if (pb)
                    {
                        energy->OnTx(d, begin);
                    }
                }));
        }
    }
    for (const Ptr<NetDevice>& enb : m_enbs)
    {
        enb->GetObject<LteEnbNetDevice>()->GetPhy()->TraceConnectWithoutContext(
            "DlPhyTransmission", MakeCallback(&LteAccess::OnDlTransmission, this));
    }
}

void
LteAccess::OnDlTransmission(ns3::PhyTransmissionStatParameters params)
{
    using namespace ns3;
    auto it = m_ueByCellRnti.find(uint32_t(params.m_cellId) << 16 | params.m_rnti);
    if (it == m_ueByCellRnti.end() || !m_energy)
    {
        return;
    }
    Ue& ue = m_ues[it->second];
    // The transport block fills this 1 ms subframe; a second layer or a block in the next
    // subframe extends the reception instead of ending and restarting it.
    const int64_t endNs = (Simulator::Now() + MilliSeconds(1)).GetNanoSeconds();
    if (!ue.rx)
    {
        ue.rx = true;
        m_energy->OnHubTx(ue.device, true);
    }
    if (ue.rxUntilNs < endNs)
    {
        ue.rxUntilNs = endNs;
        Simulator::Schedule(MilliSeconds(1), &LteAccess::EndRx, this, it->second);
    }
}

void
LteAccess::EndRx(size_t index)
{
    Ue& ue = m_ues[index];
    if (ue.rx && ns3::Simulator::Now().GetNanoSeconds() >= ue.rxUntilNs)
    {
        ue.rx = false;
        m_energy->OnHubTx(ue.device, false);
    }
}

} // namespace slsim
