#include "sim/small-queues.h"

#include "common/error.h"

#include "ns3/core-module.h"
#include "ns3/internet-module.h"
#include "ns3/point-to-point-net-device.h"
#include "ns3/traffic-control-module.h"

#include <algorithm>
#include <unordered_map>
#include <vector>

namespace slsim
{
namespace
{

class TsqSocket;

/// The data segments the sockets of one host have in its egress queues (queue disc + device
/// queue + the one being transmitted), by packet uid. A uid is one socket's (TCP cuts segments
/// from the packets its application wrote, and copies keep the uid), possibly several segments.
class TsqEgress : public ns3::SimpleRefCount<TsqEgress>
{
  public:
    TsqEgress(ns3::Ptr<ns3::NetDevice> device, uint32_t limitBytes);

    uint32_t LimitBytes() const
    {
        return m_limitBytes;
    }

    void Add(uint64_t uid, TsqSocket* socket);
    /// Called when the socket is disposed: its segments still queued are forgotten.
    void Forget(TsqSocket* socket);

  private:
    void Leave(ns3::Ptr<const ns3::Packet> packet);
    void DropItem(ns3::Ptr<const ns3::QueueDiscItem> item);

    struct Entry
    {
        TsqSocket* socket;
        uint32_t segments;
    };

    uint32_t m_limitBytes;
    std::unordered_map<uint64_t, Entry> m_queued;
};

/// What a node's sockets use (aggregated to the node by InstallSmallQueues).
class TsqHost : public ns3::Object
{
  public:
    static ns3::TypeId GetTypeId()
    {
        static ns3::TypeId tid = ns3::TypeId("slsim::TsqHost").SetParent<ns3::Object>();
        return tid;
    }

    ns3::Ptr<TsqEgress> egress;
};

/// ns-3's TcpSocketBase with Linux's small-queue check in front of every transmission.
class TsqSocket : public ns3::TcpSocketBase
{
  public:
    static ns3::TypeId GetTypeId()
    {
        static ns3::TypeId tid = ns3::TypeId("slsim::TsqSocket")
                                     .SetParent<ns3::TcpSocketBase>()
                                     .AddConstructor<TsqSocket>();
        return tid;
    }

    ns3::TypeId GetInstanceTypeId() const override
    {
        return GetTypeId();
    }

    TsqSocket() = default;

    TsqSocket(const TsqSocket& other)
        : ns3::TcpSocketBase(other),
          m_egress(other.m_egress)
    {
        Watch();
    }

    void SetEgress(ns3::Ptr<TsqEgress> egress)
    {
        m_egress = egress;
        Watch();
    }

    /// One of this socket's segments left the host (transmitted or dropped).
    void Left()
    {
        SLSIM_ASSERT(m_queuedSegments > 0);
        --m_queuedSegments;
        if (m_throttled && !Throttled())
        {
            m_throttled = false;
            // tcp_wfree -> tcp_tsq_handler: write again, in an event of its own (the device is
            // in the middle of its transmit-complete handler).
            ns3::Simulator::ScheduleNow(&TsqSocket::Resume, ns3::Ptr<TsqSocket>(this));
        }
    }

    void Forgotten(uint32_t segments)
    {
        m_queuedSegments -= std::min(segments, m_queuedSegments);
    }

  protected:
    uint32_t AvailableWindow() const override
    {
        const uint32_t window = ns3::TcpSocketBase::AvailableWindow();
        if (window == 0 || !Throttled())
        {
            return window;
        }
        m_throttled = true;
        return 0;
    }

    ns3::Ptr<ns3::TcpSocketBase> Fork() override
    {
        return ns3::CopyObject<TsqSocket>(this);
    }

    void DoDispose() override
    {
        if (m_egress)
        {
            m_egress->Forget(this);
            m_egress = nullptr;
        }
        ns3::TcpSocketBase::DoDispose();
    }

  private:
    void Watch()
    {
        // The trace fires before the segment goes down the stack, so it is counted before the
        // device can report it transmitted.
        m_txTrace.ConnectWithoutContext(ns3::MakeCallback(&TsqSocket::OnTx, this));
    }

    void OnTx(ns3::Ptr<const ns3::Packet> segment, const ns3::TcpHeader&,
              ns3::Ptr<const ns3::TcpSocketBase> socket)
    {
        // A forked socket's trace may still hold its listener's callback: count only our own
        // data segments (pure ACKs and SYN/FIN without data are not limited).
        if (socket != this || !m_egress || segment->GetSize() == 0)
        {
            return;
        }
        ++m_queuedSegments;
        m_egress->Add(segment->GetUid(), this);
    }

    /// tcp_small_queue_check: more than the limit already queued. A socket with nothing queued
    /// always sends (Linux: always when at most one segment is outstanding).
    bool Throttled() const
    {
        const uint64_t segment = m_tcb->m_segmentSize;
        // Only unacknowledged data can still be queued here.
        const int32_t unacked = m_tcb->m_highTxMark.Get() - m_txBuffer->HeadSequence();
        const uint64_t queued
            = std::min<uint64_t>(m_queuedSegments, (std::max(unacked, 0) + segment - 1) / segment);
        if (queued == 0)
        {
            return false;
        }
        const uint64_t cwnd = m_tcb->m_cWnd.Get();
        const ns3::Time srtt = m_rtt->GetEstimate();
        uint64_t limit = m_egress->LimitBytes();
        if (srtt.IsStrictlyPositive())
        {
            // Pacing rate (bytes/s) >> 10: about 1 ms of it.
            const double ratio = cwnd < m_tcb->m_ssThresh.Get() / 2 ? 2.0 : 1.2;
            const double rate = ratio * double(cwnd) / srtt.GetSeconds();
            limit = std::min<uint64_t>(limit, static_cast<uint64_t>(rate / 1024));
        }
        limit = std::max<uint64_t>(limit, 2 * segment);
        return queued * segment >= limit;
    }

    void Resume()
    {
        if (m_state == ns3::TcpSocket::ESTABLISHED || m_state == ns3::TcpSocket::CLOSE_WAIT)
        {
            SendPendingData(m_connected);
        }
    }

    ns3::Ptr<TsqEgress> m_egress;
    uint32_t m_queuedSegments = 0;
    mutable bool m_throttled = false;
};

NS_OBJECT_ENSURE_REGISTERED(TsqHost);
NS_OBJECT_ENSURE_REGISTERED(TsqSocket);

TsqEgress::TsqEgress(ns3::Ptr<ns3::NetDevice> device, uint32_t limitBytes)
    : m_limitBytes(limitBytes)
{
    using namespace ns3;
    Ptr<PointToPointNetDevice> p2p = DynamicCast<PointToPointNetDevice>(device);
    SLSIM_ASSERT(p2p);
    auto leave = MakeCallback(&TsqEgress::Leave, this);
    SLSIM_ASSERT(p2p->TraceConnectWithoutContext("PhyTxEnd", leave));
    SLSIM_ASSERT(p2p->TraceConnectWithoutContext("PhyTxDrop", leave));
    SLSIM_ASSERT(p2p->TraceConnectWithoutContext("MacTxDrop", leave));
    // The root queue disc's Drop trace covers its children's drops (fq_codel's flows): a child's
    // drop calls its parent's DropBeforeEnqueue/DropAfterDequeue (ns-3's queue-disc.cc).
    Ptr<TrafficControlLayer> tc = device->GetNode()->GetObject<TrafficControlLayer>();
    SLSIM_ASSERT(tc);
    if (Ptr<QueueDisc> disc = tc->GetRootQueueDiscOnDevice(device))
    {
        SLSIM_ASSERT(
            disc->TraceConnectWithoutContext("Drop", MakeCallback(&TsqEgress::DropItem, this)));
    }
    // Without a queue disc the traffic-control layer drops what reaches a stopped (full) device
    // queue with no trace to connect here: such a leftover count is bounded by the socket's
    // unacknowledged segments (TsqSocket::Throttled), so it cannot stall a socket.
}

void
TsqEgress::Add(uint64_t uid, TsqSocket* socket)
{
    auto [it, fresh] = m_queued.try_emplace(uid, Entry{socket, 0});
    SLSIM_ASSERT(fresh || it->second.socket == socket);
    ++it->second.segments;
}

void
TsqEgress::Forget(TsqSocket* socket)
{
    for (auto it = m_queued.begin(); it != m_queued.end();)
    {
        it = it->second.socket == socket ? m_queued.erase(it) : std::next(it);
    }
}

void
TsqEgress::Leave(ns3::Ptr<const ns3::Packet> packet)
{
    auto it = m_queued.find(packet->GetUid());
    if (it == m_queued.end())
    {
        return; // not a limited segment (an ACK, another node's packet being forwarded)
    }
    TsqSocket* socket = it->second.socket;
    if (--it->second.segments == 0)
    {
        m_queued.erase(it);
    }
    socket->Left();
}

void
TsqEgress::DropItem(ns3::Ptr<const ns3::QueueDiscItem> item)
{
    Leave(item->GetPacket());
}

} // namespace

void
InstallSmallQueues(const std::vector<ns3::Ptr<ns3::Node>>& nodes, ns3::Ptr<ns3::NetDevice> device,
                   uint32_t limitBytes)
{
    using namespace ns3;
    auto egress = Create<TsqEgress>(device, limitBytes);
    for (const Ptr<Node>& node : nodes)
    {
        auto host = CreateObject<TsqHost>();
        host->egress = egress;
        node->AggregateObject(host);
    }
}

ns3::Ptr<ns3::Socket>
CreateTcpSocket(ns3::Ptr<ns3::Node> node)
{
    using namespace ns3;
    Ptr<TsqHost> host = node->GetObject<TsqHost>();
    if (!host)
    {
        return Socket::CreateSocket(node, TcpSocketFactory::GetTypeId());
    }
    // What TcpL4Protocol::CreateSocket does, with a TsqSocket.
    Ptr<TcpL4Protocol> tcp = node->GetObject<TcpL4Protocol>();
    TypeIdValue rtt, congestion, recovery;
    tcp->GetAttribute("RttEstimatorType", rtt);
    tcp->GetAttribute("SocketType", congestion);
    tcp->GetAttribute("RecoveryType", recovery);
    ObjectFactory factory;
    auto socket = CreateObject<TsqSocket>();
    socket->SetNode(node);
    socket->SetTcp(tcp);
    factory.SetTypeId(rtt.Get());
    socket->SetRtt(factory.Create<RttEstimator>());
    factory.SetTypeId(congestion.Get());
    socket->SetCongestionControlAlgorithm(factory.Create<TcpCongestionOps>());
    factory.SetTypeId(recovery.Get());
    socket->SetRecoveryAlgorithm(factory.Create<TcpRecoveryOps>());
    socket->SetEgress(host->egress);
    tcp->AddSocket(socket);
    return socket;
}

} // namespace slsim
