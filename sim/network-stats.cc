#include "sim/network-stats.h"

#include "common/error.h"
#include "common/state-io.h"
#include "sim/wifi-access.h"

#include "ns3/core-module.h"
#include "ns3/ipv4-list-routing.h"
#include "ns3/point-to-point-net-device.h"
#include "ns3/queue-disc.h"
#include "ns3/tcp-l4-protocol.h"
#include "ns3/traffic-control-layer.h"

namespace slsim
{
namespace
{

template <typename Item>
void
Count(uint64_t* counter, Item)
{
    ++*counter;
}

void
CountSent(LinkCounts* counts, ns3::Ptr<const ns3::Packet> p)
{
    ++counts->packetsSent;
    counts->bytesSent += p->GetSize();
}

/// An IP packet sent or received on a radio access interface.
void
CountIp(LinkCounts* counts, ns3::Ptr<const ns3::Packet> p, ns3::Ptr<ns3::Ipv4>, uint32_t)
{
    CountSent(counts, p);
}

void
Add(TcpCounts& sum, const TcpCounts& c)
{
    sum.retransmissions += c.retransmissions;
    sum.timeouts += c.timeouts;
    sum.bytesSent += c.bytesSent;
    sum.bytesRetransmitted += c.bytesRetransmitted;
    sum.rtoWaitS += c.rtoWaitS;
}

void
Add(LinkCounts& sum, const LinkCounts& c)
{
    sum.packetsSent += c.packetsSent;
    sum.bytesSent += c.bytesSent;
    sum.queueDrops += c.queueDrops;
    sum.wireLosses += c.wireLosses;
    sum.airtimeS += c.airtimeS;
    sum.macRetries += c.macRetries;
}

void
AddTx(LinkCounts* counts, const WifiTxRecord& r)
{
    counts->packetsSent += 1;
    counts->bytesSent += r.bytes;
    counts->airtimeS += r.airtimeS;
    counts->macRetries += r.retries;
}

void
AddDrop(LinkCounts* counts, bool retryLimit)
{
    ++(retryLimit ? counts->wireLosses : counts->queueDrops);
}

/// Counts the drops of the root queue disc on `device`. A WiFi device's root is an mq disc
/// with one child per access category (ns-3's default); ns-3's QueueDisc reports every child's
/// drop again as its parent's (reason CHILD_QUEUE_DISC_DROP, queue-disc.h), so the root's trace
/// sees each drop once and the children are not connected.
void
ConnectDiscDrops(ns3::Ptr<ns3::NetDevice> device, uint64_t* counter)
{
    using namespace ns3;
    Ptr<TrafficControlLayer> tc = device->GetNode()->GetObject<TrafficControlLayer>();
    Ptr<QueueDisc> root = tc ? tc->GetRootQueueDiscOnDevice(device) : nullptr;
    if (root)
    {
        root->TraceConnectWithoutContext(
            "Drop", MakeBoundCallback(&Count<Ptr<const QueueDiscItem>>, counter));
    }
}

uint64_t
MacKey(ns3::Mac48Address a)
{
    uint8_t b[6];
    a.CopyTo(b);
    uint64_t k = 0;
    for (uint8_t x : b)
    {
        k = k << 8 | x;
    }
    return k;
}

} // namespace

NetworkStats::NetworkStats(const Network& net)
    : m_net(net)
{
    using namespace ns3;
    const size_t n = net.deviceSide.size();
    m_up.resize(n);
    m_down.resize(n);
    m_accessUp.resize(n);
    m_accessDown.resize(n);
    for (size_t i = 0; i < n; ++i)
    {
        if (IsWifi(net.deviceSide[i]))
        {
            WatchWifi(i);
        }
        else
        {
            WatchLink(net.deviceSide[i], net.hubSide[i], &m_accessUp[i]);
            WatchLink(net.hubSide[i], net.deviceSide[i], &m_accessDown[i]);
        }
        Ptr<Node> node = net.devices.Get(static_cast<uint32_t>(i));
        Ptr<Ipv4> ipv4 = node->GetObject<Ipv4>();
        m_deviceByAddress[ipv4->GetAddress(1, 0).GetLocal().Get()] = static_cast<int>(i);
        node->GetObject<Ipv4L3Protocol>()->TraceConnectWithoutContext(
            "SendOutgoing", MakeCallback(&NetworkStats::OnSendOutgoing, this).Bind(uint32_t(i)));
    }
    WatchLink(net.coreHubSide, net.coreServerSide, &m_coreUp);
    WatchLink(net.coreServerSide, net.coreHubSide, &m_coreDown);
    m_apUp.resize(net.apSide.size());
    m_apDown.resize(net.apSide.size());
    for (size_t k = 0; k < net.apSide.size(); ++k)
    {
        WatchLink(net.apSide[k], net.apHubSide[k], &m_apUp[k]);
        WatchLink(net.apHubSide[k], net.apSide[k], &m_apDown[k]);
        // Drops at the AP's traffic-control layer, on the way to its stations or to the hub
        // (not told apart): counted with its link to the hub.
        Ptr<Node> ap = net.accessPoints[k];
        ap->GetObject<TrafficControlLayer>()->TraceConnectWithoutContext(
            "TcDrop", MakeBoundCallback(&Count<Ptr<const Packet>>, &m_apUp[k].queueDrops));
        for (uint32_t j = 0; j < ap->GetNDevices(); ++j)
        {
            if (IsWifi(ap->GetDevice(j)))
            {
                ConnectDiscDrops(ap->GetDevice(j), &m_apUp[k].queueDrops);
            }
        }
    }
    // Without a queue disc, a full device queue stops its flow control and the traffic-control
    // layer drops what comes next (its "TcDrop" trace; the queue itself sees nothing). Hosts have
    // one device; at the hub, HubRouting names the device the dropped packet was routed to.
    for (size_t i = 0; i < n; ++i)
    {
        net.devices.Get(static_cast<uint32_t>(i))
            ->GetObject<TrafficControlLayer>()
            ->TraceConnectWithoutContext(
                "TcDrop", MakeBoundCallback(&Count<Ptr<const Packet>>, &m_accessUp[i].queueDrops));
    }
    net.server->GetObject<TrafficControlLayer>()->TraceConnectWithoutContext(
        "TcDrop", MakeBoundCallback(&Count<Ptr<const Packet>>, &m_coreDown.queueDrops));
    Ptr<Ipv4ListRouting> list
        = DynamicCast<Ipv4ListRouting>(net.hub->GetObject<Ipv4>()->GetRoutingProtocol());
    SLSIM_ASSERT(list);
    for (uint32_t i = 0; i < list->GetNRoutingProtocols() && !m_hubRouting; ++i)
    {
        int16_t priority = 0;
        m_hubRouting = DynamicCast<HubRouting>(list->GetRoutingProtocol(i, priority));
    }
    SLSIM_ASSERT(m_hubRouting);
    net.hub->GetObject<TrafficControlLayer>()->TraceConnectWithoutContext(
        "TcDrop", MakeCallback(&NetworkStats::OnHubDrop, this));
    // The nodes that terminate the devices' connections: the server or its front-ends, whose
    // ideal links never drop (sim/topology.h) but whose drops would be the server's own.
    m_serverListening.assign(net.serverNodes.size(), false);
    for (uint32_t k = 0; k < net.serverNodes.size(); ++k)
    {
        if (net.serverNodes[k] != net.server)
        {
            net.serverNodes[k]->GetObject<TrafficControlLayer>()->TraceConnectWithoutContext(
                "TcDrop", MakeBoundCallback(&Count<Ptr<const Packet>>, &m_coreDown.queueDrops));
        }
        net.serverNodes[k]->GetObject<Ipv4L3Protocol>()->TraceConnectWithoutContext(
            "Rx", MakeCallback(&NetworkStats::OnServerRx, this).Bind(k));
    }
}

void
NetworkStats::WatchLink(ns3::Ptr<ns3::NetDevice> tx, ns3::Ptr<ns3::NetDevice> rx,
                        LinkCounts* counts)
{
    using namespace ns3;
    auto p2p = DynamicCast<PointToPointNetDevice>(tx);
    if (!p2p)
    {
        // A radio access (LTE): the IP packets the device sends on it and receives from it.
        Ptr<NetDevice> device = m_net.devices.Contains(tx->GetNode()->GetId()) ? tx : rx;
        Ptr<Ipv4L3Protocol> ip = device->GetNode()->GetObject<Ipv4L3Protocol>();
        ip->TraceConnectWithoutContext(device == tx ? "Tx" : "Rx",
                                       MakeBoundCallback(&CountIp, counts));
        return;
    }
    p2p->GetQueue()->TraceConnectWithoutContext(
        "Drop", MakeBoundCallback(&Count<Ptr<const Packet>>, &counts->queueDrops));
    p2p->TraceConnectWithoutContext("PhyTxBegin", MakeBoundCallback(&CountSent, counts));
    m_linkByDevice[PeekPointer(tx)] = counts;
    rx->TraceConnectWithoutContext(
        "PhyRxDrop", MakeBoundCallback(&Count<Ptr<const Packet>>, &counts->wireLosses));
    if (Ptr<TrafficControlLayer> tc = tx->GetNode()->GetObject<TrafficControlLayer>())
    {
        if (Ptr<QueueDisc> disc = tc->GetRootQueueDiscOnDevice(tx))
        {
            disc->TraceConnectWithoutContext(
                "Drop", MakeBoundCallback(&Count<Ptr<const QueueDiscItem>>, &counts->queueDrops));
        }
    }
}

void
NetworkStats::WatchWifi(size_t device)
{
    using namespace ns3;
    Ptr<NetDevice> station = m_net.deviceSide[device];
    Ptr<NetDevice> ap = m_net.hubSide[device];
    LinkCounts* up = &m_accessUp[device];
    WatchWifiTx(station, [up](const WifiTxRecord& r) { AddTx(up, r); });
    WatchWifiDrops(station, [up](Mac48Address, bool retryLimit) { AddDrop(up, retryLimit); });
    ConnectDiscDrops(station, &up->queueDrops);
    m_wifiDown[MacKey(Mac48Address::ConvertFrom(station->GetAddress()))] = &m_accessDown[device];
    if (!m_wifiApWatched[PeekPointer(ap)])
    {
        m_wifiApWatched[PeekPointer(ap)] = true;
        // One AP serves many stations: its frames are told apart by their receiver (Addr1).
        WatchWifiTx(ap, [this](const WifiTxRecord& r) {
            auto it = m_wifiDown.find(MacKey(r.receiver));
            if (it != m_wifiDown.end())
            {
                AddTx(it->second, r);
            }
        });
        WatchWifiDrops(ap, [this](Mac48Address receiver, bool retryLimit) {
            auto it = m_wifiDown.find(MacKey(receiver));
            if (it != m_wifiDown.end())
            {
                AddDrop(it->second, retryLimit);
            }
        });
    }
}

void
NetworkStats::OnHubDrop(ns3::Ptr<const ns3::Packet>)
{
    auto it = m_linkByDevice.find(PeekPointer(m_hubRouting->ForwardingDevice()));
    if (it != m_linkByDevice.end())
    {
        ++it->second->queueDrops;
    }
}

void
NetworkStats::OnSendOutgoing(uint32_t node, const ns3::Ipv4Header& h, ns3::Ptr<const ns3::Packet> p,
                             uint32_t)
{
    if (h.GetProtocol() != ns3::TcpL4Protocol::PROT_NUMBER)
    {
        return;
    }
    ns3::TcpHeader tcp;
    p->PeekHeader(tcp);
    if ((tcp.GetFlags() & ns3::TcpHeader::SYN) && !(tcp.GetFlags() & ns3::TcpHeader::ACK))
    {
        ScanSockets(m_net.devices.Get(node), static_cast<int>(node)); // a new connection
    }
}

void
NetworkStats::OnServerRx(uint32_t node, ns3::Ptr<const ns3::Packet>, ns3::Ptr<ns3::Ipv4>, uint32_t)
{
    if (!m_serverListening[node])
    {
        // the listening socket, before it accepts anything
        m_serverListening[node] = ScanSockets(m_net.serverNodes[node], -1);
    }
}

bool
NetworkStats::ScanSockets(ns3::Ptr<ns3::Node> node, int device)
{
    bool found = false;
    using namespace ns3;
    ObjectVectorValue list;
    node->GetObject<TcpL4Protocol>()->GetAttribute("SocketList", list);
    for (auto it = list.Begin(); it != list.End(); ++it)
    {
        auto s = DynamicCast<TcpSocketBase>(it->second);
        if (!s || m_sockets.count(PeekPointer(s)))
        {
            continue;
        }
        Socket& e = Watch(s, device >= 0 ? &m_up[static_cast<size_t>(device)] : nullptr, true);
        if (device >= 0)
        {
            e.sentSyn = true; // the SYN that made us look went out before the hook
        }
        found = true;
    }
    return found;
}

NetworkStats::Socket&
NetworkStats::Watch(ns3::Ptr<ns3::TcpSocketBase> s, TcpCounts* counts, bool connectTx)
{
    using namespace ns3;
    Socket& e = m_sockets[PeekPointer(s)];
    e.stats = this;
    e.counts = counts;
    if (counts)
    {
        const bool up = counts >= m_up.data() && counts < m_up.data() + m_up.size();
        e.uplink = up;
        e.device = static_cast<int>(counts - (up ? m_up.data() : m_down.data()));
    }
    // A socket the server accepts already carries the listening socket's sinks: connecting "Tx"
    // again would count its segments twice. Its "RTO" sink is bound to the listening socket's
    // entry, which attributes nothing, so it gets its own.
    if (connectTx)
    {
        s->TraceConnectWithoutContext("Tx", MakeCallback(&NetworkStats::OnTx, this));
    }
    s->TraceConnectWithoutContext("RTO", MakeBoundCallback(&NetworkStats::OnRto, &e));
    return e;
}

void
NetworkStats::OnTx(ns3::Ptr<const ns3::Packet> p, const ns3::TcpHeader& h,
                   ns3::Ptr<const ns3::TcpSocketBase> s)
{
    using namespace ns3;
    auto it = m_sockets.find(PeekPointer(s));
    Socket* e = it == m_sockets.end() ? nullptr : &it->second;
    if (!e)
    {
        // A connection the server accepted (its first segment, the SYN-ACK): attribute it to
        // the device at the other end.
        Address peer;
        TcpCounts* counts = nullptr;
        if (s->GetPeerName(peer) == 0 && InetSocketAddress::IsMatchingType(peer))
        {
            auto d = m_deviceByAddress.find(InetSocketAddress::ConvertFrom(peer).GetIpv4().Get());
            if (d != m_deviceByAddress.end())
            {
                counts = &m_down[static_cast<size_t>(d->second)];
            }
        }
        e = &Watch(Ptr<TcpSocketBase>(const_cast<TcpSocketBase*>(PeekPointer(s))), counts, false);
        if (!counts)
        {
            return;
        }
    }
    if (!e->counts)
    {
        return; // the listening socket
    }
    TcpCounts& c = *e->counts;
    if (h.GetFlags() & TcpHeader::SYN)
    {
        if (e->sentSyn)
        {
            ++c.retransmissions; // only the connection timer sends a SYN again
            ++c.timeouts;
            TimeValue connTimeout;
            s->GetAttribute("ConnTimeout", connTimeout);
            Expired(*e, connTimeout.Get().GetSeconds());
        }
        e->sentSyn = true;
        return;
    }
    const uint32_t size = p->GetSize();
    if (size == 0)
    {
        return;
    }
    c.bytesSent += size;
    const SequenceNumber32 seq = h.GetSequenceNumber();
    if (e->sentData && seq < e->sentEnd)
    {
        ++c.retransmissions;
        c.bytesRetransmitted += size;
    }
    if (!e->sentData || seq + size > e->sentEnd)
    {
        e->sentEnd = seq + size;
    }
    e->sentData = true;
}

void
NetworkStats::OnRto(Socket* s, ns3::Time before, ns3::Time after)
{
    // TcpSocketBase::ReTxTimeout: m_rto = min(2 m_rto, 60 s) (RFC 6298 5.5).
    if (s->counts && before.IsStrictlyPositive() && after == std::min(before * 2, ns3::Seconds(60)))
    {
        ++s->counts->timeouts;
        s->stats->Expired(*s, before.GetSeconds());
    }
}

void
NetworkStats::Expired(const Socket& s, double waitS)
{
    s.counts->rtoWaitS += waitS;
    if (m_rtoHook)
    {
        m_rtoHook(RtoRecord{s.device, s.uplink, waitS});
    }
}

TcpCounts
NetworkStats::TcpTotal() const
{
    TcpCounts sum;
    for (size_t i = 0; i < m_up.size(); ++i)
    {
        Add(sum, m_up[i]);
        Add(sum, m_down[i]);
    }
    return sum;
}

LinkCounts
NetworkStats::LinkTotal() const
{
    LinkCounts sum = m_coreUp;
    Add(sum, m_coreDown);
    for (size_t k = 0; k < m_apUp.size(); ++k)
    {
        Add(sum, m_apUp[k]);
        Add(sum, m_apDown[k]);
    }
    for (size_t i = 0; i < m_accessUp.size(); ++i)
    {
        Add(sum, m_accessUp[i]);
        Add(sum, m_accessDown[i]);
    }
    return sum;
}

void
NetworkStats::SaveState(ByteWriter& out) const
{
    PutPodVector(out, m_up);
    PutPodVector(out, m_down);
    PutPodVector(out, m_accessUp);
    PutPodVector(out, m_accessDown);
    PutPod(out, m_coreUp);
    PutPod(out, m_coreDown);
    PutPodVector(out, m_apUp);
    PutPodVector(out, m_apDown);
}

void
NetworkStats::LoadState(ByteReader& in)
{
    GetPodVector(in, m_up, "tcp counts", m_up.size());
    GetPodVector(in, m_down, "tcp counts", m_down.size());
    GetPodVector(in, m_accessUp, "link counts", m_accessUp.size());
    GetPodVector(in, m_accessDown, "link counts", m_accessDown.size());
    GetPod(in, m_coreUp);
    GetPod(in, m_coreDown);
    GetPodVector(in, m_apUp, "link counts", m_apUp.size());
    GetPodVector(in, m_apDown, "link counts", m_apDown.size());
}

} // namespace slsim
