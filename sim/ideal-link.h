// A link that delivers a packet to the other end within the call that sends it: no delay, no
// transmission time, no queue, no event. It joins the server to its front-end nodes
// (sim/topology.h) so that spreading the server's sockets over several nodes changes no result:
// a packet crosses it in the same simulator event, so the order of every event, and with it the
// CSV, stays byte-identical to one server node terminating every connection. (A point-to-point
// link with zero delay would deliver through a new event at the same instant, after the events
// already due then: ties between devices would resolve differently.)
#ifndef SLSIM_SIM_IDEAL_LINK_H
#define SLSIM_SIM_IDEAL_LINK_H

#include "ns3/channel.h"
#include "ns3/mac48-address.h"
#include "ns3/net-device-container.h"
#include "ns3/net-device.h"
#include "ns3/node.h"

namespace slsim
{

class IdealChannel;

class IdealNetDevice : public ns3::NetDevice
{
  public:
    static ns3::TypeId GetTypeId();

    /// Joins this device to `channel` (at most two devices per channel).
    void Attach(ns3::Ptr<IdealChannel> channel);
    /// Hands `packet` to this device's node, as if it had just arrived from the peer.
    void Deliver(ns3::Ptr<ns3::Packet> packet, uint16_t protocol, const ns3::Address& from);

    void SetIfIndex(uint32_t index) override;
    uint32_t GetIfIndex() const override;
    ns3::Ptr<ns3::Channel> GetChannel() const override;
    void SetAddress(ns3::Address address) override;
    ns3::Address GetAddress() const override;
    bool SetMtu(uint16_t mtu) override;
    uint16_t GetMtu() const override;
    bool IsLinkUp() const override;
    void AddLinkChangeCallback(ns3::Callback<void> callback) override;
    bool IsBroadcast() const override;
    ns3::Address GetBroadcast() const override;
    bool IsMulticast() const override;
    ns3::Address GetMulticast(ns3::Ipv4Address group) const override;
    ns3::Address GetMulticast(ns3::Ipv6Address group) const override;
    bool IsBridge() const override;
    bool IsPointToPoint() const override;
    bool Send(ns3::Ptr<ns3::Packet> packet, const ns3::Address& dest, uint16_t protocol) override;
    bool SendFrom(ns3::Ptr<ns3::Packet> packet, const ns3::Address& source,
                  const ns3::Address& dest, uint16_t protocol) override;
    ns3::Ptr<ns3::Node> GetNode() const override;
    void SetNode(ns3::Ptr<ns3::Node> node) override;
    bool NeedsArp() const override;
    void SetReceiveCallback(ReceiveCallback cb) override;
    void SetPromiscReceiveCallback(PromiscReceiveCallback cb) override;
    bool SupportsSendFrom() const override;

  protected:
    void DoDispose() override;

  private:
    ns3::Ptr<ns3::Node> m_node;
    ns3::Ptr<IdealChannel> m_channel;
    ns3::Mac48Address m_address;
    uint32_t m_ifIndex = 0;
    uint16_t m_mtu = 1500; // PointToPointNetDevice's default: the same packets fit
    ReceiveCallback m_rx;
    PromiscReceiveCallback m_promiscRx;
};

class IdealChannel : public ns3::Channel
{
  public:
    static ns3::TypeId GetTypeId();

    void Add(ns3::Ptr<IdealNetDevice> device);
    /// The device at the other end from `device`.
    ns3::Ptr<IdealNetDevice> Peer(const IdealNetDevice* device) const;

    std::size_t GetNDevices() const override;
    ns3::Ptr<ns3::NetDevice> GetDevice(std::size_t i) const override;

  protected:
    void DoDispose() override;

  private:
    ns3::Ptr<IdealNetDevice> m_devices[2];
    std::size_t m_count = 0;
};

/// Joins `a` and `b` by an ideal link; the devices in that order.
ns3::NetDeviceContainer InstallIdealLink(ns3::Ptr<ns3::Node> a, ns3::Ptr<ns3::Node> b);

} // namespace slsim

#endif
