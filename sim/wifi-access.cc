#include "sim/wifi-access.h"

#include "common/error.h"
#include "sim/topology.h"

#include "ns3/core-module.h"
#include "ns3/mobility-module.h"
#include "ns3/propagation-module.h"
#include "ns3/traffic-control-module.h"
#include "ns3/wifi-module.h"

#include <cmath>
#include <sstream>
#include <string>

namespace slsim
{
namespace
{

ns3::WifiStandard
Standard(const std::string& name)
{
    using namespace ns3;
    if (name == "802.11n")
    {
        return WIFI_STANDARD_80211n;
    }
    if (name == "802.11ac")
    {
        return WIFI_STANDARD_80211ac;
    }
    SLSIM_ASSERT(name == "802.11ax");
    return WIFI_STANDARD_80211ax;
}

/// ns-3's ChannelSettings attribute: "{number, width, band, primary20}"; channel number 0 is
/// the default channel of that width in that band (ns-3 wifi docs, "Channel settings").
std::string
ChannelSettings(const WifiConfig& w)
{
    std::ostringstream s;
    s << "{0, " << w.channelWidthMhz << ", "
      << (w.bandGhz < 3     ? "BAND_2_4GHZ"
          : w.bandGhz < 5.9 ? "BAND_5GHZ"
                            : "BAND_6GHZ")
      << ", 0}";
    return s.str();
}

/// ns-3's WifiMode name of a single-stream MCS: HtMcs<i>, VhtMcs<i>, HeMcs<i>.
std::string
ModeName(const WifiConfig& w)
{
    const std::string prefix = w.standard == "802.11n"    ? "HtMcs"
                               : w.standard == "802.11ac" ? "VhtMcs"
                                                          : "HeMcs";
    return prefix + std::to_string(w.mcs);
}

ns3::Ptr<ns3::WifiNetDevice>
AsWifi(ns3::Ptr<ns3::NetDevice> device)
{
    auto wifi = ns3::DynamicCast<ns3::WifiNetDevice>(device);
    SLSIM_ASSERT(wifi);
    return wifi;
}

void
Place(ns3::Ptr<ns3::Node> node, double x)
{
    auto m = ns3::CreateObject<ns3::ConstantPositionMobilityModel>();
    m->SetPosition(ns3::Vector(x, 0, 0));
    node->AggregateObject(m);
}

/// Works around an ns-3.37 block-ack bug that stalls a station for good. A recipient creates its
/// agreement with the ADDBA Request's starting sequence number (SSN) when it receives the request
/// (HtFrameExchangeManager::SendAddBaResponse). If its ADDBA Response is delayed by contention
/// past the originator's AddBaResponseTimeout (1 ms), the originator sends the queued MPDUs under
/// Normal Ack, and the recipient passes them up; when the response finally gets through, the
/// originator starts its window at its next sequence number (QosTxop::GotAddBaResponse), but the
/// recipient's reordering window still starts at the stale SSN: every later MPDU is held in its
/// reordering buffer waiting for sequence numbers it already passed up, while its scoreboard
/// acknowledges them, so nothing is retransmitted and nothing reaches IP until 64 more MPDUs
/// (a TCP connection's retransmission timeouts send one each: 6 RTOs, 12.6 s, then the server's
/// time-out). The fix: a BlockAckReq as soon as an agreement is established; it carries the
/// originator's starting sequence number and moves the recipient's window there (IEEE
/// 802.11-2016 10.24.7.6.2: a BlockAckReq sets WinStartB to its SSN; ns-3's
/// RecipientBlockAckAgreement::NotifyReceivedBar). One BlockAckReq/BlockAck exchange per
/// agreement, sent before the next data for that receiver.
void
ResyncBlockAckWindows(ns3::Ptr<ns3::WifiNetDevice> device)
{
    using namespace ns3;
    for (AcIndex ac : {AC_BE, AC_BK, AC_VI, AC_VO})
    {
        Ptr<QosTxop> txop = device->GetMac()->GetQosTxop(ac);
        txop->GetBaManager()->TraceConnectWithoutContext(
            "AgreementState",
            Callback<void, Time, Mac48Address, uint8_t, OriginatorBlockAckAgreement::State>(
                [txop](Time, Mac48Address recipient, uint8_t tid,
                       OriginatorBlockAckAgreement::State state) {
                    if (state == OriginatorBlockAckAgreement::ESTABLISHED)
                    {
                        // Sent only when data for the recipient is queued (the BlockAckReq's
                        // SSN is brought up to date when it is sent).
                        txop->ScheduleBar(txop->PrepareBlockAckRequest(recipient, tid), true);
                    }
                }));
    }
}

} // namespace

std::vector<uint32_t>
AssignStations(const WifiConfig& wifi, size_t stations)
{
    std::vector<uint32_t> ap(stations);
    const size_t k = wifi.apCount;
    for (size_t j = 0; j < stations; ++j)
    {
        // block: ceil(n / k) consecutive stations per AP.
        ap[j] = static_cast<uint32_t>(wifi.assignment == "block" ? j / ((stations + k - 1) / k)
                                                                 : j % k);
    }
    return ap;
}

void
AddWifiAccess(const NetworkConfig& config, const std::vector<uint32_t>& stations,
              const WireApToHub& wire, Network* net, int64_t* stream)
{
    using namespace ns3;
    const WifiConfig& w = config.wifi;
    const std::vector<uint32_t> apOf = AssignStations(w, stations.size());
    SLSIM_ASSERT(w.apCount >= 1 && w.apCount <= WIFI_MAX_APS);

    WifiHelper wifi;
    wifi.SetStandard(Standard(w.standard));
    if (w.rateManager == "constant")
    {
        const std::string mode = ModeName(w);
        wifi.SetRemoteStationManager("ns3::ConstantRateWifiManager", "DataMode", StringValue(mode),
                                     "RtsCtsThreshold", UintegerValue(w.rtsCtsThresholdBytes));
    }
    else
    {
        wifi.SetRemoteStationManager("ns3::MinstrelHtWifiManager", "RtsCtsThreshold",
                                     UintegerValue(w.rtsCtsThresholdBytes));
    }
    if (w.standard == "802.11ax")
    {
        wifi.ConfigHeOptions("GuardInterval",
                             TimeValue(NanoSeconds(w.shortGuardInterval ? 800 : 3200)));
    }
    else
    {
        wifi.ConfigHtOptions("ShortGuardIntervalSupported", BooleanValue(w.shortGuardInterval));
    }

    InternetStackHelper stack;
    Ipv4AddressHelper address;
    Ipv4StaticRoutingHelper routing;
    const Ipv4Mask bssMask("255.255.240.0");
    net->accessPoints.clear();
    for (uint32_t k = 0; k < w.apCount; ++k)
    {
        NodeContainer members;
        std::vector<uint32_t> devices;
        for (size_t j = 0; j < stations.size(); ++j)
        {
            if (apOf[j] == k)
            {
                members.Add(net->devices.Get(stations[j]));
                devices.push_back(stations[j]);
            }
        }
        SLSIM_ASSERT(devices.size() <= WIFI_MAX_STATIONS_PER_AP);
        Ptr<Node> ap = CreateObject<Node>();
        stack.Install(ap);
        net->accessPoints.push_back(ap);

        // One channel per BSS: log-distance path loss, propagation at the speed of light.
        YansWifiChannelHelper channel;
        channel.SetPropagationDelay("ns3::ConstantSpeedPropagationDelayModel");
        channel.AddPropagationLoss(
            "ns3::LogDistancePropagationLossModel", "Exponent", DoubleValue(w.lossExponent),
            "ReferenceDistance", DoubleValue(1.0), "ReferenceLoss", DoubleValue(w.referenceLossDb));
        YansWifiPhyHelper phy;
        phy.SetChannel(channel.Create());
        phy.Set("ChannelSettings", StringValue(ChannelSettings(w)));
        phy.Set("TxPowerStart", DoubleValue(w.txPowerDbm));
        phy.Set("TxPowerEnd", DoubleValue(w.txPowerDbm));

        const Ssid ssid("slsim-ap-" + std::to_string(k));
        WifiMacHelper mac;
        // Active probing: a station associates within milliseconds of starting instead of
        // waiting for a beacon (102.4 ms apart, ns-3's default).
        mac.SetType("ns3::StaWifiMac", "Ssid", SsidValue(ssid), "ActiveProbing", BooleanValue(true),
                    "BE_MaxAmpduSize", UintegerValue(w.maxAmpduBytes));
        NetDeviceContainer staDevs = wifi.Install(phy, mac, members);
        mac.SetType("ns3::ApWifiMac", "Ssid", SsidValue(ssid), "BE_MaxAmpduSize",
                    UintegerValue(w.maxAmpduBytes));
        NetDeviceContainer apDev = wifi.Install(phy, mac, ap);
        for (NetDeviceContainer::Iterator d = staDevs.Begin(); d != staDevs.End(); ++d)
        {
            ResyncBlockAckWindows(AsWifi(*d));
        }
        ResyncBlockAckWindows(AsWifi(apDev.Get(0)));
        *stream += wifi.AssignStreams(apDev, *stream);
        *stream += wifi.AssignStreams(staDevs, *stream);
        // ARP runs on a BSS (never on the point-to-point links): its request jitter's stream
        // is fixed too, or a second run in the same process would draw other values.
        *stream += stack.AssignStreams(NodeContainer(NodeContainer(ap), members), *stream);

        Place(ap, 0);
        for (size_t j = 0; j < devices.size(); ++j)
        {
            Place(members.Get(static_cast<uint32_t>(j)), config.devices[devices[j]].wifiDistanceM);
        }

        const Ipv4Address network((160u << 16 | 10u << 24) + 4096u * k);
        address.SetBase(network, bssMask);
        Ipv4InterfaceContainer apIf = address.Assign(apDev);
        Ipv4InterfaceContainer staIf = address.Assign(staDevs);
        if (config.tcp.aqm == "none")
        {
            TrafficControlHelper().Uninstall(apDev);
            TrafficControlHelper().Uninstall(staDevs);
        }
        for (size_t j = 0; j < devices.size(); ++j)
        {
            routing.GetStaticRouting(members.Get(static_cast<uint32_t>(j))->GetObject<Ipv4>())
                ->SetDefaultRoute(apIf.GetAddress(0), 1);
            net->deviceSide[devices[j]] = staDevs.Get(static_cast<uint32_t>(j));
            net->hubSide[devices[j]] = apDev.Get(0);
        }
        wire(ap, k, network, bssMask);
    }
}

bool
IsWifi(ns3::Ptr<ns3::NetDevice> device)
{
    return ns3::DynamicCast<ns3::WifiNetDevice>(device) != nullptr;
}

void
SetWifiRadio(ns3::Ptr<ns3::NetDevice> station, bool on)
{
    ns3::Ptr<ns3::WifiPhy> phy = AsWifi(station)->GetPhy();
    if (on && phy->IsStateOff())
    {
        phy->ResumeFromOff();
    }
    else if (!on && !phy->IsStateOff())
    {
        phy->SetOffMode();
    }
}

void
WhenAssociated(ns3::Ptr<ns3::NetDevice> station, std::function<void()> then)
{
    using namespace ns3;
    auto done = std::make_shared<bool>(false);
    AsWifi(station)->GetMac()->TraceConnectWithoutContext(
        "Assoc", Callback<void, Mac48Address>([done, then](Mac48Address) {
            if (!*done)
            {
                *done = true;
                then();
            }
        }));
}

void
WatchWifiTx(ns3::Ptr<ns3::NetDevice> device, std::function<void(const WifiTxRecord&)> onTx)
{
    using namespace ns3;
    Ptr<WifiPhy> phy = AsWifi(device)->GetPhy();
    const WifiPhyBand band = phy->GetPhyBand();
    phy->TraceConnectWithoutContext(
        "PhyTxPsduBegin",
        Callback<void, WifiConstPsduMap, WifiTxVector, double>(
            [onTx, band](WifiConstPsduMap psdus, WifiTxVector txVector, double) {
                const double airtime
                    = WifiPhy::CalculateTxDuration(psdus, txVector, band).GetSeconds();
                for (const auto& [staId, psdu] : psdus)
                {
                    WifiTxRecord r;
                    r.receiver = psdu->GetAddr1();
                    r.airtimeS = airtime;
                    r.bytes = psdu->GetSize();
                    for (auto it = psdu->begin(); it != psdu->end(); ++it)
                    {
                        ++r.mpdus;
                        r.retries += (*it)->GetHeader().IsRetry() ? 1 : 0;
                    }
                    onTx(r);
                }
            }));
}

void
WatchWifiDrops(ns3::Ptr<ns3::NetDevice> device,
               std::function<void(ns3::Mac48Address receiver, bool retryLimit)> onDrop)
{
    using namespace ns3;
    AsWifi(device)->GetMac()->TraceConnectWithoutContext(
        "DroppedMpdu", Callback<void, WifiMacDropReason, Ptr<const WifiMpdu>>(
                           [onDrop](WifiMacDropReason reason, Ptr<const WifiMpdu> mpdu) {
                               onDrop(mpdu->GetHeader().GetAddr1(),
                                      reason == WIFI_MAC_DROP_REACHED_RETRY_LIMIT);
                           }));
}

/// ns-3's PHY listener (what WifiRadioEnergyModel listens to) turned into (tx, rx) changes. A
/// transmission's end is not notified: it is scheduled from the duration given at its start.
class WifiRadioWatch::Listener : public ns3::WifiPhyListener
{
  public:
    Listener(ns3::Ptr<ns3::WifiPhyStateHelper> state, Callback onChange)
        : m_state(state),
          m_onChange(std::move(onChange))
    {
    }

    ~Listener() override
    {
        m_txEnd.Cancel();
    }

    void NotifyRxStart(ns3::Time) override
    {
        Set(m_tx, true);
    }

    void NotifyRxEndOk() override
    {
        Set(m_tx, false);
    }

    void NotifyRxEndError() override
    {
        Set(m_tx, false);
    }

    void NotifyTxStart(ns3::Time duration, double) override
    {
        // A transmission aborts any reception (half duplex).
        m_txEnd.Cancel();
        m_rx = false;
        Set(true, false);
        m_txEnd = ns3::Simulator::Schedule(duration, [this] { Set(false, m_rx); });
    }

    void NotifyCcaBusyStart(ns3::Time, ns3::WifiChannelListType,
                            const std::vector<ns3::Time>&) override
    {
    }

    void NotifySwitchingStart(ns3::Time) override
    {
    }

    void NotifySleep() override
    {
        Off();
    }

    void NotifyOff() override
    {
        Off();
    }

    void NotifyWakeup() override
    {
    }

    void NotifyOn() override
    {
    }

    ns3::Ptr<ns3::WifiPhyStateHelper> m_state;

  private:
    void Off()
    {
        m_txEnd.Cancel();
        Set(false, false);
    }

    void Set(bool tx, bool rx)
    {
        if (tx != m_tx || rx != m_rx)
        {
            m_tx = tx;
            m_rx = rx;
            m_onChange(tx, rx);
        }
    }

    Callback m_onChange;
    bool m_tx = false;
    bool m_rx = false;
    ns3::EventId m_txEnd;
};

WifiRadioWatch::WifiRadioWatch(ns3::Ptr<ns3::NetDevice> station, Callback onChange)
{
    ns3::Ptr<ns3::WifiPhy> phy = AsWifi(station)->GetPhy();
    m_listener = std::make_unique<Listener>(phy->GetState(), std::move(onChange));
    phy->RegisterListener(m_listener.get());
}

WifiRadioWatch::~WifiRadioWatch()
{
    // The state helper outlives its PHY's disposal (this Ptr holds it), so this is safe either way.
    m_listener->m_state->UnregisterListener(m_listener.get());
}

} // namespace slsim
