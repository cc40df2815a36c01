#include "sim/topology.h"

#include "common/error.h"
#include "sim/hub-routing.h"
#include "sim/ideal-link.h"
#include "sim/link-trace.h"
#include "sim/lte-access.h"
#include "sim/small-queues.h"
#include "sim/wifi-access.h"

#include "ns3/core-module.h"
#include "ns3/point-to-point-module.h"
#include "ns3/traffic-control-module.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

namespace slsim
{
namespace
{

std::string
Rate(double mbps)
{
    std::ostringstream s;
    s << static_cast<uint64_t>(mbps * 1e6 + 0.5) << "bps";
    return s.str();
}

std::string
Delay(double ms)
{
    std::ostringstream s;
    s << static_cast<uint64_t>(ms * 1e6 + 0.5) << "ns";
    return s.str();
}

/// Bytes one full segment occupies on a point-to-point link: payload + IPv4 (20) + TCP (20) +
/// timestamp option (12, padded) + PPP (2).
uint32_t
PacketBytes(const TcpConfig& tcp)
{
    return tcp.segmentBytes + 54;
}

/// A queue limit in packets for a link of `mbps` carrying flows of round-trip time `rttMs`:
/// the explicit size when given, else factor x bandwidth-delay product, at least two initial
/// windows (a smaller queue would drop every connection's first flight).
uint32_t
QueuePackets(const TcpConfig& tcp, double mbps, double rttMs)
{
    if (tcp.queuePackets > 0)
    {
        return tcp.queuePackets;
    }
    const double bdp = tcp.queueBdpFactor * mbps * 1e6 / 8 * rttMs / 1e3 / PacketBytes(tcp);
    return std::max<uint32_t>(static_cast<uint32_t>(std::ceil(bdp)), 2 * tcp.initialCwndSegments);
}

} // namespace

ns3::QueueSize
DeviceQueue(const TcpConfig& tcp, double mbps, double rttMs)
{
    using namespace ns3;
    if (tcp.queueBytes > 0)
    {
        return QueueSize(QueueSizeUnit::BYTES, tcp.queueBytes);
    }
    if (tcp.aqm != "none" && tcp.queuePackets == 0)
    {
        // With a queue disc the standing queue must form in the disc, where the AQM sees it; the
        // device queue stays at ns-3's default (ns-3 traffic-control docs, "Queue disc and
        // device queue"), and the disc's flow control stops it when full.
        return QueueSize(QueueSizeUnit::PACKETS, 100);
    }
    return QueueSize(QueueSizeUnit::PACKETS, QueuePackets(tcp, mbps, rttMs));
}

namespace
{

/// An end host's own outgoing queue (the server's to the hub, a device's uplink), carrying
/// `devices` sockets. An end host does not drop the packets it generates: Linux keeps what the
/// qdisc cannot take in the socket (TCP small queues) and retries. So in the "linux" profile the
/// host's device queue holds every socket's full send buffer; the legacy profile (and an
/// explicit size) keeps the router-like limit.
ns3::QueueSize
ServerQueue(const TcpConfig& tcp, double mbps, double rttMs, size_t devices)
{
    using namespace ns3;
    if (tcp.profile == "legacy" || tcp.queuePackets > 0 || tcp.queueBytes > 0 || tcp.aqm != "none")
    {
        return DeviceQueue(tcp, mbps, rttMs);
    }
    const double perSocket = std::ceil(double(tcp.sendBufferBytes) / tcp.segmentBytes);
    const double n = std::min(perSocket * double(devices) + QueuePackets(tcp, mbps, rttMs),
                              double(std::numeric_limits<uint32_t>::max()));
    return QueueSize(QueueSizeUnit::PACKETS, static_cast<uint32_t>(n));
}

} // namespace

void
InstallQueueDisc(const TcpConfig& tcp, const ns3::NetDeviceContainer& link)
{
    using namespace ns3;
    if (tcp.aqm == "none")
    {
        return; // Ipv4AddressHelper::Assign installs fq_codel; removed after Assign
    }
    // fq_codel: exactly what Ipv4AddressHelper would install (ns-3's default root queue disc).
    TrafficControlHelper tc = TrafficControlHelper::Default();
    if (tcp.aqm == "codel")
    {
        tc = TrafficControlHelper();
        tc.SetRootQueueDisc("ns3::CoDelQueueDisc");
    }
    else if (tcp.aqm == "pie")
    {
        tc = TrafficControlHelper();
        tc.SetRootQueueDisc("ns3::PieQueueDisc");
    }
    tc.Install(link);
}

namespace
{

/// Sets ns-3's TCP defaults from the configuration. Every attribute is set on every run (not
/// only where it differs from ns-3's default): Config::SetDefault outlives a run in this process.
void
SetTcpDefaults(const TcpConfig& tcp)
{
    using namespace ns3;
    Config::SetDefault("ns3::TcpL4Protocol::SocketType",
                       TypeIdValue(TypeId::LookupByName("ns3::Tcp" + tcp.variant)));
    Config::SetDefault("ns3::TcpSocket::SegmentSize", UintegerValue(tcp.segmentBytes));
    Config::SetDefault("ns3::TcpSocket::SndBufSize", UintegerValue(tcp.sendBufferBytes));
    Config::SetDefault("ns3::TcpSocket::RcvBufSize", UintegerValue(tcp.receiveBufferBytes));
    Config::SetDefault("ns3::TcpSocket::DelAckCount", UintegerValue(tcp.delayedAckCount));
    Config::SetDefault("ns3::TcpSocket::DelAckTimeout",
                       TimeValue(NanoSeconds(std::llround(tcp.delayedAckTimeoutMs * 1e6))));
    Config::SetDefault("ns3::TcpSocket::InitialCwnd", UintegerValue(tcp.initialCwndSegments));
    Config::SetDefault("ns3::TcpSocketBase::Sack", BooleanValue(tcp.sack));
    Config::SetDefault("ns3::TcpSocketBase::WindowScaling", BooleanValue(tcp.windowScaling));
    Config::SetDefault("ns3::TcpSocketBase::Timestamp", BooleanValue(tcp.timestamps));
    Config::SetDefault("ns3::TcpSocketBase::MinRto",
                       TimeValue(NanoSeconds(std::llround(tcp.minRtoMs * 1e6))));
    Config::SetDefault("ns3::TcpSocketBase::ClockGranularity",
                       TimeValue(NanoSeconds(std::llround(tcp.clockGranularityMs * 1e6))));
    Config::SetDefault("ns3::TcpSocketBase::UseEcn",
                       EnumValue(tcp.ecn ? TcpSocketState::On : TcpSocketState::Off));
    // The strong end-system model (RFC 1122 3.3.4.2): a packet is accepted only on the interface
    // that owns its address. ns-3's weak model checks every interface of the node for each
    // packet, O(N) at the hub; no host here has two interfaces, so the results are the same.
    Config::SetDefault("ns3::Ipv4::WeakEsModel", BooleanValue(false));
}

/// Hands every IPv4 packet a node receives straight to its Ipv4L3Protocol through one handler.
/// Ipv4L3Protocol::AddInterface registers a handler per device, with the node and again with the
/// traffic-control layer, and both scan their whole list for each packet: O(N) at the hub of N
/// devices. The traffic-control layer only dispatches on receive (ns-3 traffic-control docs:
/// queue discs act on the way out) and ARP never runs on point-to-point links, so one handler
/// for all devices delivers the same packets in the same order.
void
DispatchIpv4Directly(ns3::Ptr<ns3::Node> node)
{
    using namespace ns3;
    const Node::ProtocolHandler perDevice
        = MakeCallback(&TrafficControlLayer::Receive, node->GetObject<TrafficControlLayer>());
    for (uint32_t i = 0; i < node->GetNDevices(); ++i)
    {
        // The node's handler list holds this callback twice per device (IPv4 and ARP);
        // UnregisterProtocolHandler removes one entry per call.
        node->UnregisterProtocolHandler(perDevice);
        node->UnregisterProtocolHandler(perDevice);
    }
    node->RegisterProtocolHandler(
        MakeCallback(&Ipv4L3Protocol::Receive, node->GetObject<Ipv4L3Protocol>()),
        Ipv4L3Protocol::PROT_NUMBER, nullptr);
}

} // namespace

ns3::Ptr<HubRouting>
FindHubRouting(ns3::Ptr<ns3::Node> node)
{
    using namespace ns3;
    Ptr<Ipv4ListRouting> list
        = DynamicCast<Ipv4ListRouting>(node->GetObject<Ipv4>()->GetRoutingProtocol());
    SLSIM_ASSERT(list);
    for (uint32_t i = 0; i < list->GetNRoutingProtocols(); ++i)
    {
        int16_t priority = 0;
        if (Ptr<HubRouting> h = DynamicCast<HubRouting>(list->GetRoutingProtocol(i, priority)))
        {
            return h;
        }
    }
    SLSIM_ASSERT(false);
    return nullptr;
}

namespace
{

/// AP k's wired link to the hub (its /30 is 10.128.0.0 + 4k), and the hub's route to its BSS.
void
WireAp(const NetworkConfig& config, const TcpConfig& tcp, double meanRttMs, ns3::Ptr<ns3::Node> ap,
       uint32_t k, ns3::Ipv4Address bss, ns3::Ipv4Mask mask, Network* net)
{
    using namespace ns3;
    const double mbps = config.wifi.apLinkMbps;
    PointToPointHelper p2p;
    p2p.SetDeviceAttribute("DataRate", StringValue(Rate(mbps)));
    p2p.SetChannelAttribute("Delay", StringValue(Delay(config.wifi.apLinkDelayMs)));
    // Both ends forward for many flows: router queues (the bottleneck's rule).
    p2p.SetQueue("ns3::DropTailQueue", "MaxSize",
                 QueueSizeValue(DeviceQueue(tcp, mbps, meanRttMs)));
    NetDeviceContainer link = p2p.Install(ap, net->hub);
    InstallQueueDisc(tcp, link);
    Ipv4AddressHelper address;
    address.SetBase(Ipv4Address((128u << 16 | 10u << 24) + 4u * k), "255.255.255.252");
    Ipv4InterfaceContainer ifs = address.Assign(link);
    if (tcp.aqm == "none")
    {
        TrafficControlHelper().Uninstall(link);
    }
    Ipv4StaticRoutingHelper()
        .GetStaticRouting(ap->GetObject<Ipv4>())
        ->SetDefaultRoute(ifs.GetAddress(1), static_cast<uint32_t>(ifs.Get(0).second));
    Ptr<Ipv4> hub = net->hub->GetObject<Ipv4>();
    FindHubRouting(net->hub)->AddNetworkRoute(
        bss, mask, ifs.GetAddress(0),
        static_cast<uint32_t>(hub->GetInterfaceForDevice(link.Get(1))));
    net->apSide.push_back(link.Get(0));
    net->apHubSide.push_back(link.Get(1));
}

/// Front-end nodes behind the server (topology.h), when the devices outnumber what one node
/// terminates; else the server node terminates every connection.
void
AddServerFrontEnds(const NetworkConfig& config, Network* net)
{
    using namespace ns3;
    const size_t n = config.devices.size();
    const size_t m = config.serverNodeConnections;
    if (m == 0 || n <= m)
    {
        net->serverNodes = {net->server};
        net->serverNodeAddresses = {net->serverAddress};
        net->perServerNode = n;
        return;
    }
    const size_t k = (n + m - 1) / m;
    // 10.64.0.0/10 holds 2^20 /30 subnets, apart from the devices' (10.0.0.0 + 4i, i < 100,000)
    // and the bottleneck's (10.255.255.0/30).
    SLSIM_ASSERT(k <= (1u << 20));
    const Ipv4Address frontEndBlock("10.64.0.0");
    Ptr<Ipv4> hub = net->hub->GetObject<Ipv4>();
    Ptr<Ipv4> server = net->server->GetObject<Ipv4>();
    const auto hubCore = static_cast<uint32_t>(hub->GetInterfaceForDevice(net->coreHubSide));
    const auto serverCore
        = static_cast<uint32_t>(server->GetInterfaceForDevice(net->coreServerSide));
    // The hub reaches the whole block through the bottleneck.
    FindHubRouting(net->hub)->AddNetworkRoute(frontEndBlock, Ipv4Mask("255.192.0.0"),
                                              net->serverAddress, hubCore);
    // The server node forwards in O(1): to its K links and, by default, to the hub (its static
    // routing would scan K + 1 routes per packet).
    auto serverRouting = DynamicCast<HubRouting>(HubRoutingHelper().Create(net->server));
    Ptr<Ipv4ListRouting> list = DynamicCast<Ipv4ListRouting>(server->GetRoutingProtocol());
    SLSIM_ASSERT(list);
    list->AddRoutingProtocol(serverRouting, 10);
    serverRouting->AddNetworkRoute(Ipv4Address::GetAny(), Ipv4Mask::GetZero(),
                                   hub->GetAddress(hubCore, 0).GetLocal(), serverCore);

    InternetStackHelper stack;
    Ipv4AddressHelper address;
    Ipv4StaticRoutingHelper routing;
    net->serverNodes.clear();
    net->serverNodeAddresses.clear();
    for (size_t i = 0; i < k; ++i)
    {
        Ptr<Node> front = CreateObject<Node>();
        stack.Install(front);
        NetDeviceContainer link = InstallIdealLink(net->server, front);
        address.SetBase(Ipv4Address(frontEndBlock.Get() + 4u * static_cast<uint32_t>(i)),
                        "255.255.255.252");
        Ipv4InterfaceContainer ifs = address.Assign(link); // no queue disc: no queue interface
        routing.GetStaticRouting(front->GetObject<Ipv4>())->SetDefaultRoute(ifs.GetAddress(0), 1);
        net->serverNodes.push_back(front);
        net->serverNodeAddresses.push_back(ifs.GetAddress(1));
    }
    net->perServerNode = m;
    DispatchIpv4Directly(net->server);
}

/// Device i's receive error models, [2i] on its side and [2i + 1] on the hub's: also at loss 0,
/// so that outages can switch them to 1.
void
AddErrorModels(double loss, uint32_t i, Network* net, int64_t* stream)
{
    using namespace ns3;
    for (uint32_t side = 0; side < 2; ++side)
    {
        auto em = CreateObject<RateErrorModel>();
        em->SetUnit(RateErrorModel::ERROR_UNIT_PACKET);
        em->SetRate(loss);
        *stream += em->AssignStreams(*stream);
        net->errorModels[2 * i + side] = em;
    }
}

/// Device i's point-to-point access link to the hub (one /30 from 10.0.0.0/8, 10.0.0.0 + 4i),
/// an error model on each receiving side.
void
BuildWiredAccess(const NetworkConfig& config, const TcpConfig& tcp, uint32_t i, Network* net,
                 int64_t* stream)
{
    using namespace ns3;
    const DeviceProfile& d = config.devices[i];
    PointToPointHelper p2p;
    p2p.SetChannelAttribute("Delay", StringValue(Delay(d.delayMs)));
    NetDeviceContainer link = p2p.Install(net->devices.Get(i), net->hub);
    link.Get(0)->SetAttribute("DataRate", StringValue(Rate(d.uplinkMbps)));
    link.Get(1)->SetAttribute("DataRate", StringValue(Rate(d.downlinkMbps)));
    // Time-varying capacities (sim/link-trace.h) take over from the constant rates.
    if (const RateTrace* up = AccessTrace(config, static_cast<int>(i), true))
    {
        PlayRateTrace(link.Get(0), *up);
    }
    if (const RateTrace* down = AccessTrace(config, static_cast<int>(i), false))
    {
        PlayRateTrace(link.Get(1), *down);
    }
    const double rttMs = 2 * (d.delayMs + config.bottleneckDelayMs);
    // The device's side is an end host's own queue (one socket); the hub's is a router's.
    link.Get(0)->GetObject<PointToPointNetDevice>()->GetQueue()->SetMaxSize(
        ServerQueue(tcp, d.uplinkMbps, rttMs, 1));
    link.Get(1)->GetObject<PointToPointNetDevice>()->GetQueue()->SetMaxSize(
        DeviceQueue(tcp, d.downlinkMbps, rttMs));
    InstallQueueDisc(tcp, link);
    AddErrorModels(d.loss, i, net, stream);
    for (uint32_t side = 0; side < 2; ++side)
    {
        link.Get(side)->SetAttribute("ReceiveErrorModel",
                                     PointerValue(net->errorModels[2 * i + side]));
    }
    Ipv4AddressHelper address;
    address.SetBase(Ipv4Address((10u << 24) + 4u * i), "255.255.255.252");
    Ipv4InterfaceContainer ifs = address.Assign(link);
    if (tcp.aqm == "none")
    {
        TrafficControlHelper().Uninstall(link);
    }
    Ipv4StaticRoutingHelper routing;
    routing.GetStaticRouting(net->devices.Get(i)->GetObject<Ipv4>())
        ->SetDefaultRoute(ifs.GetAddress(1), 1);
    net->deviceSide[i] = link.Get(0);
    net->hubSide[i] = link.Get(1);
}

} // namespace

Network
BuildNetwork(const NetworkConfig& config, uint64_t seed)
{
    using namespace ns3;
    SLSIM_ASSERT(!config.devices.empty());
    RngSeedManager::SetSeed(static_cast<uint32_t>(seed % 4294967295u) + 1);
    RngSeedManager::SetRun(1);

    TcpConfig tcp = config.tcp;
    if (tcp.queueDisc && tcp.aqm == "none")
    {
        tcp.aqm = "fq_codel"; // the legacy switch: ns-3's default queue disc
    }
    SetTcpDefaults(tcp);

    Network net;
    net.devices.Create(static_cast<uint32_t>(config.devices.size()));
    net.hub = CreateObject<Node>();
    net.server = CreateObject<Node>();
    InternetStackHelper stack;
    stack.Install(net.devices);
    stack.Install(net.server);
    // The hub forwards through HubRouting (O(1) per packet) above the static routing.
    Ipv4ListRoutingHelper hubRouting;
    hubRouting.Add(Ipv4StaticRoutingHelper(), 0);
    hubRouting.Add(HubRoutingHelper(), 10);
    InternetStackHelper hubStack;
    hubStack.SetRoutingHelper(hubRouting);
    hubStack.Install(net.hub);

    // Round-trip propagation times, for the queues sized from the bandwidth-delay product.
    double meanRttMs = 0;
    for (const DeviceProfile& d : config.devices)
    {
        // One-way delay to the hub: an LTE device's is the PGW link and ~5 ms of radio (the LTE
        // user-plane latency requirement, 3GPP TR 25.913 section 7.2.1); a WiFi device's its AP's
        // wired link.
        const double delayMs = d.access == "lte"    ? config.lte.pgwDelayMs + 5
                               : d.access == "wifi" ? config.wifi.apLinkDelayMs
                                                    : d.delayMs;
        meanRttMs += 2 * (delayMs + config.bottleneckDelayMs) / double(config.devices.size());
    }

    PointToPointHelper p2p;
    Ipv4AddressHelper address;
    Ipv4StaticRoutingHelper routing;
    int64_t stream = 1000;

    // Bottleneck hub <-> server.
    p2p.SetDeviceAttribute("DataRate", StringValue(Rate(config.bottleneckMbps)));
    p2p.SetChannelAttribute("Delay", StringValue(Delay(config.bottleneckDelayMs)));
    // The bottleneck's hub side carries every device's flow (mean RTT); the server side is an
    // end host's own queue (ServerQueue).
    p2p.SetQueue("ns3::DropTailQueue", "MaxSize",
                 QueueSizeValue(DeviceQueue(tcp, config.bottleneckMbps, meanRttMs)));
    NetDeviceContainer core = p2p.Install(net.hub, net.server);
    core.Get(1)->GetObject<PointToPointNetDevice>()->GetQueue()->SetMaxSize(
        ServerQueue(tcp, config.bottleneckMbps, meanRttMs, config.devices.size()));
    InstallQueueDisc(tcp, core);
    address.SetBase("10.255.255.0", "255.255.255.252");
    Ipv4InterfaceContainer coreIf = address.Assign(core);
    if (tcp.aqm == "none")
    {
        TrafficControlHelper().Uninstall(core);
    }
    net.serverAddress = coreIf.GetAddress(1);
    net.coreHubSide = core.Get(0);
    net.coreServerSide = core.Get(1);
    routing.GetStaticRouting(net.server->GetObject<Ipv4>())
        ->SetDefaultRoute(coreIf.GetAddress(0), 1);

    // Access, one function per kind: a point-to-point link here; WiFi stations of APs wired to
    // the hub and UEs of the LTE cells, built after the loop. Wired and LTE devices have their
    // pair of error models (streams in device order).
    const size_t n = config.devices.size();
    net.deviceSide.resize(n);
    net.hubSide.resize(n);
    net.errorModels.resize(2 * n);
    std::vector<uint32_t> stations, lteDevices;
    for (uint32_t i = 0; i < net.devices.GetN(); ++i)
    {
        if (config.devices[i].access == "wifi")
        {
            stations.push_back(i);
        }
        else if (config.devices[i].access == "lte")
        {
            AddErrorModels(config.devices[i].loss, i, &net, &stream);
            lteDevices.push_back(i);
        }
        else
        {
            BuildWiredAccess(config, tcp, i, &net, &stream);
        }
    }
    if (!stations.empty())
    {
        const WireApToHub wire = [&](Ptr<Node> ap, uint32_t k, Ipv4Address bss, Ipv4Mask mask) {
            WireAp(config, tcp, meanRttMs, ap, k, bss, mask, &net);
        };
        AddWifiAccess(config, stations, wire, &net, &stream);
    }
    if (!lteDevices.empty())
    {
        net.lte = std::make_shared<LteAccess>(config, tcp, lteDevices, &net, &stream);
    }
    AddServerFrontEnds(config, &net);
    DispatchIpv4Directly(net.hub);
    if (tcp.tsqLimitBytes > 0 && tcp.aqm != "none")
    {
        // TCP small queues on every end host with a point-to-point egress (sim/small-queues.h).
        // Not without a queue disc: there the traffic-control layer drops packets for a full
        // device queue with no trace TSQ's count could follow (sockets stalled on 100-packet
        // tail-drop queues), and the hosts' queues hold every send buffer anyway.
        for (uint32_t i = 0; i < n; ++i)
        {
            if (config.devices[i].access == "wired")
            {
                InstallSmallQueues({net.devices.Get(i)}, net.deviceSide[i], tcp.tsqLimitBytes);
            }
        }
        std::vector<Ptr<Node>> serverHosts = net.serverNodes;
        if (serverHosts.front() != net.server)
        {
            serverHosts.push_back(net.server);
        }
        InstallSmallQueues(serverHosts, net.coreServerSide, tcp.tsqLimitBytes);
    }
    return net;
}

} // namespace slsim
