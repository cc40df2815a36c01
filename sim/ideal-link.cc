#include "sim/ideal-link.h"

#include "common/error.h"

#include "ns3/packet.h"

namespace slsim
{

ns3::TypeId
IdealNetDevice::GetTypeId()
{
    static ns3::TypeId tid = ns3::TypeId("slsim::IdealNetDevice")
                                 .SetParent<ns3::NetDevice>()
                                 .SetGroupName("slsim")
                                 .AddConstructor<IdealNetDevice>();
    return tid;
}

void
IdealNetDevice::Attach(ns3::Ptr<IdealChannel> channel)
{
    m_channel = channel;
    m_channel->Add(this);
}

void
IdealNetDevice::Deliver(ns3::Ptr<ns3::Packet> packet, uint16_t protocol, const ns3::Address& from)
{
    if (!m_promiscRx.IsNull())
    {
        m_promiscRx(this, packet, protocol, from, m_address, ns3::NetDevice::PACKET_HOST);
    }
    m_rx(this, packet, protocol, from);
}

bool
IdealNetDevice::Send(ns3::Ptr<ns3::Packet> packet, const ns3::Address&, uint16_t protocol)
{
    SLSIM_ASSERT(m_channel);
    // Within this call, as the receiving side of a point-to-point link would (it gets its own
    // copy of the packet; the sender's stays as it was handed over).
    m_channel->Peer(this)->Deliver(packet->Copy(), protocol, m_address);
    return true;
}

bool
IdealNetDevice::SendFrom(ns3::Ptr<ns3::Packet> packet, const ns3::Address&,
                         const ns3::Address& dest, uint16_t protocol)
{
    return Send(packet, dest, protocol);
}

void
IdealNetDevice::DoDispose()
{
    m_node = nullptr;
    m_channel = nullptr;
    m_rx.Nullify();
    m_promiscRx.Nullify();
    ns3::NetDevice::DoDispose();
}

void
IdealNetDevice::SetIfIndex(uint32_t index)
{
    m_ifIndex = index;
}

uint32_t
IdealNetDevice::GetIfIndex() const
{
    return m_ifIndex;
}

ns3::Ptr<ns3::Channel>
IdealNetDevice::GetChannel() const
{
    return m_channel;
}

void
IdealNetDevice::SetAddress(ns3::Address address)
{
    m_address = ns3::Mac48Address::ConvertFrom(address);
}

ns3::Address
IdealNetDevice::GetAddress() const
{
    return m_address;
}

bool
IdealNetDevice::SetMtu(uint16_t mtu)
{
    m_mtu = mtu;
    return true;
}

uint16_t
IdealNetDevice::GetMtu() const
{
    return m_mtu;
}

bool
IdealNetDevice::IsLinkUp() const
{
    return true;
}

void
IdealNetDevice::AddLinkChangeCallback(ns3::Callback<void>)
{
    // the link never changes
}

bool
IdealNetDevice::IsBroadcast() const
{
    return true;
}

ns3::Address
IdealNetDevice::GetBroadcast() const
{
    return ns3::Mac48Address::GetBroadcast();
}

bool
IdealNetDevice::IsMulticast() const
{
    return true;
}

ns3::Address
IdealNetDevice::GetMulticast(ns3::Ipv4Address group) const
{
    return ns3::Mac48Address::GetMulticast(group);
}

ns3::Address
IdealNetDevice::GetMulticast(ns3::Ipv6Address group) const
{
    return ns3::Mac48Address::GetMulticast(group);
}

bool
IdealNetDevice::IsBridge() const
{
    return false;
}

bool
IdealNetDevice::IsPointToPoint() const
{
    return true;
}

ns3::Ptr<ns3::Node>
IdealNetDevice::GetNode() const
{
    return m_node;
}

void
IdealNetDevice::SetNode(ns3::Ptr<ns3::Node> node)
{
    m_node = node;
}

bool
IdealNetDevice::NeedsArp() const
{
    return false; // two ends only: the peer is the destination
}

void
IdealNetDevice::SetReceiveCallback(ReceiveCallback cb)
{
    m_rx = cb;
}

void
IdealNetDevice::SetPromiscReceiveCallback(PromiscReceiveCallback cb)
{
    m_promiscRx = cb;
}

bool
IdealNetDevice::SupportsSendFrom() const
{
    return false;
}

ns3::TypeId
IdealChannel::GetTypeId()
{
    static ns3::TypeId tid = ns3::TypeId("slsim::IdealChannel")
                                 .SetParent<ns3::Channel>()
                                 .SetGroupName("slsim")
                                 .AddConstructor<IdealChannel>();
    return tid;
}

void
IdealChannel::Add(ns3::Ptr<IdealNetDevice> device)
{
    SLSIM_ASSERT(m_count < 2);
    m_devices[m_count++] = device;
}

ns3::Ptr<IdealNetDevice>
IdealChannel::Peer(const IdealNetDevice* device) const
{
    SLSIM_ASSERT(m_count == 2);
    return PeekPointer(m_devices[0]) == device ? m_devices[1] : m_devices[0];
}

std::size_t
IdealChannel::GetNDevices() const
{
    return m_count;
}

ns3::Ptr<ns3::NetDevice>
IdealChannel::GetDevice(std::size_t i) const
{
    SLSIM_ASSERT(i < m_count);
    return m_devices[i];
}

void
IdealChannel::DoDispose()
{
    m_devices[0] = nullptr;
    m_devices[1] = nullptr;
    ns3::Channel::DoDispose();
}

ns3::NetDeviceContainer
InstallIdealLink(ns3::Ptr<ns3::Node> a, ns3::Ptr<ns3::Node> b)
{
    auto channel = ns3::CreateObject<IdealChannel>();
    ns3::NetDeviceContainer devices;
    for (const ns3::Ptr<ns3::Node>& node : {a, b})
    {
        auto device = ns3::CreateObject<IdealNetDevice>();
        device->SetAddress(ns3::Mac48Address::Allocate());
        node->AddDevice(device);
        device->Attach(channel);
        devices.Add(device);
    }
    return devices;
}

} // namespace slsim
