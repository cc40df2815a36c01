// Forwarding at the hub in O(1) per packet, whatever the device count.
//
// ns-3's Ipv4StaticRouting finds a connected subnet by scanning every network route, so at the
// hub of a star of N devices each forwarded packet costs O(N) (8-20 % of a 1000-device run).
// HubRouting keys each interface's subnet by (address & mask) in a hash map per distinct mask
// (one here: every link is a /30), so a lookup costs one hash probe per mask. It answers for
// directly connected subnets only and declines anything else, so it sits in an Ipv4ListRouting
// above the static routing (which keeps default routes and the local-delivery rules). A few
// routes through a gateway (AddNetworkRoute: the server's front-ends, its default route) are
// checked after the connected subnets.
#ifndef SLSIM_SIM_HUB_ROUTING_H
#define SLSIM_SIM_HUB_ROUTING_H

#include "ns3/ipv4-routing-helper.h"
#include "ns3/ipv4-routing-protocol.h"
#include "ns3/ipv4.h"

#include <cstdint>
#include <map>
#include <unordered_map>
#include <vector>

namespace slsim
{

class HubRouting : public ns3::Ipv4RoutingProtocol
{
  public:
    static ns3::TypeId GetTypeId();

    ns3::Ptr<ns3::Ipv4Route> RouteOutput(ns3::Ptr<ns3::Packet> p, const ns3::Ipv4Header& header,
                                         ns3::Ptr<ns3::NetDevice> oif,
                                         ns3::Socket::SocketErrno& sockerr) override;
    bool RouteInput(ns3::Ptr<const ns3::Packet> p, const ns3::Ipv4Header& header,
                    ns3::Ptr<const ns3::NetDevice> idev, UnicastForwardCallback ucb,
                    MulticastForwardCallback mcb, LocalDeliverCallback lcb,
                    ErrorCallback ecb) override;
    void NotifyInterfaceUp(uint32_t interface) override;
    void NotifyInterfaceDown(uint32_t interface) override;
    void NotifyAddAddress(uint32_t interface, ns3::Ipv4InterfaceAddress address) override;
    void NotifyRemoveAddress(uint32_t interface, ns3::Ipv4InterfaceAddress address) override;
    void SetIpv4(ns3::Ptr<ns3::Ipv4> ipv4) override;
    void PrintRoutingTable(ns3::Ptr<ns3::OutputStreamWrapper> stream,
                           ns3::Time::Unit unit = ns3::Time::S) const override;

    /// The device of the packet being forwarded right now (during RouteInput's forward
    /// callback, where a drop on the way out happens), else null: lets a recorder attribute the
    /// traffic-control layer's drops to a link.
    ns3::Ptr<ns3::NetDevice> ForwardingDevice() const
    {
        return m_forwarding;
    }

    /// Routes `network`/`mask` through `gateway` on `interface`. Checked after the connected
    /// subnets, one by one in the order added: meant for a handful of routes.
    void AddNetworkRoute(ns3::Ipv4Address network, ns3::Ipv4Mask mask, ns3::Ipv4Address gateway,
                         uint32_t interface);

  protected:
    void DoDispose() override;

  private:
    struct Hop
    {
        int32_t interface = -1;   // -1: no route
        ns3::Ipv4Address gateway; // 0.0.0.0: directly connected
    };

    struct GatewayRoute
    {
        uint32_t network, mask;
        Hop hop;
    };

    /// The next hop towards `destination` (interface -1 if none).
    Hop Lookup(ns3::Ipv4Address destination) const;
    ns3::Ptr<ns3::Ipv4Route> MakeRoute(ns3::Ipv4Address destination, const Hop& hop) const;
    void AddInterface(uint32_t interface);
    void RemoveInterface(uint32_t interface);

    ns3::Ptr<ns3::Ipv4> m_ipv4;
    ns3::Ptr<ns3::NetDevice> m_forwarding;
    /// mask -> (subnet -> interface); std::greater: longest prefix first.
    std::map<uint32_t, std::unordered_map<uint32_t, uint32_t>, std::greater<uint32_t>> m_subnets;
    std::vector<GatewayRoute> m_gatewayRoutes;
};

/// Installs a HubRouting (for Ipv4ListRoutingHelper, next to Ipv4StaticRoutingHelper).
class HubRoutingHelper : public ns3::Ipv4RoutingHelper
{
  public:
    HubRoutingHelper* Copy() const override
    {
        return new HubRoutingHelper(*this);
    }

    ns3::Ptr<ns3::Ipv4RoutingProtocol> Create(ns3::Ptr<ns3::Node> node) const override;
};

} // namespace slsim

#endif
