#include "sim/topology.h"

#include "common/error.h"

#include "ns3/core-module.h"
#include "ns3/point-to-point-module.h"
#include "ns3/traffic-control-module.h"

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

} // namespace

Network
BuildNetwork(const NetworkConfig& config, uint64_t seed)
{
    using namespace ns3;
    SLSIM_ASSERT(!config.devices.empty());
    RngSeedManager::SetSeed(static_cast<uint32_t>(seed % 4294967295u) + 1);
    RngSeedManager::SetRun(1);

    const TcpConfig& tcp = config.tcp;
    Config::SetDefault("ns3::TcpL4Protocol::SocketType",
                       TypeIdValue(TypeId::LookupByName("ns3::Tcp" + tcp.variant)));
    Config::SetDefault("ns3::TcpSocket::SegmentSize", UintegerValue(tcp.segmentBytes));
    Config::SetDefault("ns3::TcpSocket::SndBufSize", UintegerValue(tcp.sendBufferBytes));
    Config::SetDefault("ns3::TcpSocket::RcvBufSize", UintegerValue(tcp.receiveBufferBytes));
    Config::SetDefault("ns3::TcpSocket::DelAckCount", UintegerValue(tcp.delayedAckCount));

    Network net;
    net.devices.Create(static_cast<uint32_t>(config.devices.size()));
    net.hub = CreateObject<Node>();
    net.server = CreateObject<Node>();
    InternetStackHelper stack;
    stack.Install(net.devices);
    stack.Install(net.hub);
    stack.Install(net.server);

    PointToPointHelper p2p;
    p2p.SetQueue("ns3::DropTailQueue",
                 "MaxSize",
                 QueueSizeValue(QueueSize(QueueSizeUnit::PACKETS, tcp.queuePackets)));
    Ipv4AddressHelper address;
    Ipv4StaticRoutingHelper routing;
    int64_t stream = 1000;

    // Bottleneck hub <-> server.
    p2p.SetDeviceAttribute("DataRate", StringValue(Rate(config.bottleneckMbps)));
    p2p.SetChannelAttribute("Delay", StringValue(Delay(config.bottleneckDelayMs)));
    NetDeviceContainer core = p2p.Install(net.hub, net.server);
    address.SetBase("10.255.255.0", "255.255.255.252");
    Ipv4InterfaceContainer coreIf = address.Assign(core);
    if (!tcp.queueDisc)
    {
        TrafficControlHelper().Uninstall(core);
    }
    net.serverAddress = coreIf.GetAddress(1);
    routing.GetStaticRouting(net.server->GetObject<Ipv4>())
        ->SetDefaultRoute(coreIf.GetAddress(0), 1);

    // Access links, one /30 each from 10.0.0.0/8.
    for (uint32_t i = 0; i < net.devices.GetN(); ++i)
    {
        const DeviceProfile& d = config.devices[i];
        p2p.SetChannelAttribute("Delay", StringValue(Delay(d.delayMs)));
        NetDeviceContainer link = p2p.Install(net.devices.Get(i), net.hub);
        link.Get(0)->SetAttribute("DataRate", StringValue(Rate(d.uplinkMbps)));
        link.Get(1)->SetAttribute("DataRate", StringValue(Rate(d.downlinkMbps)));
        // An error model on each receiving side, also at loss 0, so outages can switch it to 1.
        for (uint32_t side = 0; side < 2; ++side)
        {
            auto em = CreateObject<RateErrorModel>();
            em->SetUnit(RateErrorModel::ERROR_UNIT_PACKET);
            em->SetRate(d.loss);
            stream += em->AssignStreams(stream);
            link.Get(side)->SetAttribute("ReceiveErrorModel", PointerValue(em));
            net.errorModels.push_back(em);
        }
        const uint32_t subnet = (10u << 24) + 4u * i;
        address.SetBase(Ipv4Address(subnet), "255.255.255.252");
        Ipv4InterfaceContainer ifs = address.Assign(link);
        if (!tcp.queueDisc)
        {
            TrafficControlHelper().Uninstall(link);
        }
        routing.GetStaticRouting(net.devices.Get(i)->GetObject<Ipv4>())
            ->SetDefaultRoute(ifs.GetAddress(1), 1);
        net.deviceSide.push_back(link.Get(0));
        net.hubSide.push_back(link.Get(1));
    }
    return net;
}

} // namespace slsim
