#include "sim/hub-routing.h"

#include "ns3/ipv4-route.h"
#include "ns3/node.h"
#include "ns3/output-stream-wrapper.h"

namespace slsim
{

ns3::TypeId
HubRouting::GetTypeId()
{
    static ns3::TypeId tid = ns3::TypeId("slsim::HubRouting")
                                 .SetParent<ns3::Ipv4RoutingProtocol>()
                                 .SetGroupName("slsim")
                                 .AddConstructor<HubRouting>();
    return tid;
}

void
HubRouting::DoDispose()
{
    m_ipv4 = nullptr;
    m_forwarding = nullptr;
    m_subnets.clear();
    m_gatewayRoutes.clear();
    ns3::Ipv4RoutingProtocol::DoDispose();
}

HubRouting::Hop
HubRouting::Lookup(ns3::Ipv4Address destination) const
{
    const uint32_t d = destination.Get();
    for (const auto& [mask, subnets] : m_subnets)
    {
        auto it = subnets.find(d & mask);
        if (it != subnets.end())
        {
            // directly connected: the next hop is the host itself (gateway 0.0.0.0)
            return Hop{static_cast<int32_t>(it->second), ns3::Ipv4Address::GetAny()};
        }
    }
    for (const GatewayRoute& r : m_gatewayRoutes)
    {
        if ((d & r.mask) == r.network && m_ipv4->IsUp(static_cast<uint32_t>(r.hop.interface)))
        {
            return r.hop;
        }
    }
    return Hop{};
}

void
HubRouting::AddNetworkRoute(ns3::Ipv4Address network, ns3::Ipv4Mask mask, ns3::Ipv4Address gateway,
                            uint32_t interface)
{
    m_gatewayRoutes.push_back(GatewayRoute{network.Get() & mask.Get(), mask.Get(),
                                           Hop{static_cast<int32_t>(interface), gateway}});
}

ns3::Ptr<ns3::Ipv4Route>
HubRouting::MakeRoute(ns3::Ipv4Address destination, const Hop& hop) const
{
    const auto interface = static_cast<uint32_t>(hop.interface);
    auto route = ns3::Create<ns3::Ipv4Route>();
    route->SetDestination(destination);
    route->SetGateway(hop.gateway);
    route->SetSource(m_ipv4->GetAddress(interface, 0).GetLocal());
    route->SetOutputDevice(m_ipv4->GetNetDevice(interface));
    return route;
}

ns3::Ptr<ns3::Ipv4Route>
HubRouting::RouteOutput(ns3::Ptr<ns3::Packet>, const ns3::Ipv4Header& header,
                        ns3::Ptr<ns3::NetDevice> oif, ns3::Socket::SocketErrno& sockerr)
{
    const Hop hop = Lookup(header.GetDestination());
    if (hop.interface < 0
        || (oif && m_ipv4->GetNetDevice(static_cast<uint32_t>(hop.interface)) != oif))
    {
        sockerr = ns3::Socket::ERROR_NOROUTETOHOST;
        return nullptr; // the next protocol in the list decides
    }
    sockerr = ns3::Socket::ERROR_NOTERROR;
    return MakeRoute(header.GetDestination(), hop);
}

bool
HubRouting::RouteInput(ns3::Ptr<const ns3::Packet> p, const ns3::Ipv4Header& header,
                       ns3::Ptr<const ns3::NetDevice> idev, UnicastForwardCallback ucb,
                       MulticastForwardCallback, LocalDeliverCallback, ErrorCallback)
{
    // Ipv4ListRouting has already delivered packets for this node; only forwarding is left.
    const ns3::Ipv4Address dst = header.GetDestination();
    if (dst.IsMulticast() || dst.IsBroadcast())
    {
        return false;
    }
    const Hop hop = Lookup(dst);
    if (hop.interface < 0 || !m_ipv4->IsForwarding(m_ipv4->GetInterfaceForDevice(idev)))
    {
        return false;
    }
    ns3::Ptr<ns3::Ipv4Route> route = MakeRoute(dst, hop);
    m_forwarding = route->GetOutputDevice();
    ucb(route, p, header);
    m_forwarding = nullptr;
    return true;
}

void
HubRouting::AddInterface(uint32_t interface)
{
    for (uint32_t a = 0; a < m_ipv4->GetNAddresses(interface); ++a)
    {
        const ns3::Ipv4InterfaceAddress addr = m_ipv4->GetAddress(interface, a);
        const uint32_t mask = addr.GetMask().Get();
        if (addr.GetLocal() == ns3::Ipv4Address::GetLoopback() || mask == 0)
        {
            continue;
        }
        m_subnets[mask][addr.GetLocal().Get() & mask] = interface;
    }
}

void
HubRouting::RemoveInterface(uint32_t interface)
{
    for (auto& [mask, subnets] : m_subnets)
    {
        for (auto it = subnets.begin(); it != subnets.end();)
        {
            it = it->second == interface ? subnets.erase(it) : std::next(it);
        }
    }
}

void
HubRouting::NotifyInterfaceUp(uint32_t interface)
{
    AddInterface(interface);
}

void
HubRouting::NotifyInterfaceDown(uint32_t interface)
{
    RemoveInterface(interface);
}

void
HubRouting::NotifyAddAddress(uint32_t interface, ns3::Ipv4InterfaceAddress)
{
    if (m_ipv4->IsUp(interface))
    {
        AddInterface(interface);
    }
}

void
HubRouting::NotifyRemoveAddress(uint32_t interface, ns3::Ipv4InterfaceAddress)
{
    RemoveInterface(interface);
    if (m_ipv4->IsUp(interface))
    {
        AddInterface(interface); // the addresses that remain
    }
}

void
HubRouting::SetIpv4(ns3::Ptr<ns3::Ipv4> ipv4)
{
    m_ipv4 = ipv4;
    m_subnets.clear();
    for (uint32_t i = 0; i < m_ipv4->GetNInterfaces(); ++i)
    {
        if (m_ipv4->IsUp(i))
        {
            AddInterface(i);
        }
    }
}

void
HubRouting::PrintRoutingTable(ns3::Ptr<ns3::OutputStreamWrapper> stream, ns3::Time::Unit) const
{
    std::ostream& os = *stream->GetStream();
    for (const auto& [mask, subnets] : m_subnets)
    {
        os << "mask " << ns3::Ipv4Mask(mask) << ": " << subnets.size() << " connected subnets\n";
    }
    for (const GatewayRoute& r : m_gatewayRoutes)
    {
        os << ns3::Ipv4Address(r.network) << "/" << ns3::Ipv4Mask(r.mask) << " via "
           << r.hop.gateway << " interface " << r.hop.interface << "\n";
    }
}

ns3::Ptr<ns3::Ipv4RoutingProtocol>
HubRoutingHelper::Create(ns3::Ptr<ns3::Node>) const
{
    return ns3::CreateObject<HubRouting>();
}

} // namespace slsim
