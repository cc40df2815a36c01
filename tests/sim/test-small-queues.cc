// TCP small queues (sim/small-queues.h): a sender's own queues stay at a few packets, the
// transfer is no slower, and many sockets sharing one host queue all finish.
#include "sim/frame-transport.h"
#include "sim/small-queues.h"
#include "sim/topology.h"

#include "ns3/core-module.h"
#include "ns3/point-to-point-net-device.h"
#include "ns3/traffic-control-module.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <memory>

using namespace slsim;

namespace
{

struct Transfer
{
    double seconds = 0;          // when the last frame arrived
    uint32_t maxHostBacklog = 0; // most packets in the sender's queue disc + device queue
    size_t frames = 0;           // frames received intact
};

/// Records the most packets a host holds in its queue disc and device queue.
struct Backlog
{
    ns3::Ptr<ns3::QueueDisc> disc;
    ns3::Ptr<ns3::Queue<ns3::Packet>> queue;
    uint32_t* most;

    void Sample(ns3::Ptr<const ns3::QueueDiscItem>)
    {
        *most = std::max(*most, disc->GetNPackets() + queue->GetNPackets());
    }
};

/// `devices` devices at `mbps` / 20 ms each receive one frame of `bytes` from the server (the
/// server's side of a 1 Gbit/s bottleneck is the one host queue), or, with `upload`, one device
/// sends it to the server. `tsq`: the limit cap, 0 = off.
Transfer
Run(uint32_t devices, double mbps, size_t bytes, bool upload, uint32_t tsq)
{
    using namespace ns3;
    NetworkConfig c;
    DeviceProfile d;
    d.uplinkMbps = mbps;
    d.downlinkMbps = mbps;
    d.delayMs = 20;
    c.devices.assign(devices, d);
    c.bottleneckMbps = 1000;
    c.tcp.tsqLimitBytes = tsq;
    Network net = BuildNetwork(c, 1);
    Ptr<NetDevice> host = upload ? net.deviceSide[0] : net.coreServerSide;
    Ptr<QueueDisc> disc
        = host->GetNode()->GetObject<TrafficControlLayer>()->GetRootQueueDiscOnDevice(host);
    Ptr<Queue<Packet>> queue = DynamicCast<PointToPointNetDevice>(host)->GetQueue();
    REQUIRE(disc); // fq_codel, the default
    Transfer t;
    Backlog backlog{disc, queue, &t.maxHostBacklog};
    disc->TraceConnectWithoutContext("Enqueue", MakeCallback(&Backlog::Sample, &backlog));

    std::vector<std::unique_ptr<FrameSender>> senders;
    std::vector<std::unique_ptr<FrameAssembler>> assemblers;
    std::vector<Ptr<Socket>> accepted;
    const std::vector<uint8_t> frame(bytes, 9);
    auto received = [&t](std::vector<uint8_t>&& f) {
        t.frames += f.size() == 0 ? 0 : 1;
        t.seconds = Simulator::Now().GetSeconds();
    };
    Ptr<Socket> listen = CreateTcpSocket(net.server);
    listen->Bind(InetSocketAddress(Ipv4Address::GetAny(), 5000));
    listen->Listen();
    std::function<void(Ptr<Socket>, const Address&)> accept = [&](Ptr<Socket> s, const Address&) {
        accepted.push_back(s);
        if (upload)
        {
            assemblers.push_back(std::make_unique<FrameAssembler>(received));
            s->SetRecvCallback(MakeCallback(&FrameAssembler::OnReceive, assemblers.back().get()));
        }
        else
        {
            senders.push_back(std::make_unique<FrameSender>(s));
            senders.back()->Send(frame);
        }
    };
    listen->SetAcceptCallback(MakeNullCallback<bool, Ptr<Socket>, const Address&>(),
                              MakeCallback(+[](std::function<void(Ptr<Socket>, const Address&)>* f,
                                               Ptr<Socket> s, const Address& a) {
                                  (*f)(s, a);
                              }).Bind(&accept));
    Simulator::ScheduleNow([&] {
        for (uint32_t i = 0; i < devices; ++i)
        {
            Ptr<Socket> s = CreateTcpSocket(net.devices.Get(i));
            s->Bind();
            s->Connect(InetSocketAddress(net.serverAddress, 5000));
            if (upload)
            {
                senders.push_back(std::make_unique<FrameSender>(s));
                senders.back()->Send(frame);
            }
            else
            {
                assemblers.push_back(std::make_unique<FrameAssembler>(received));
                s->SetRecvCallback(
                    MakeCallback(&FrameAssembler::OnReceive, assemblers.back().get()));
            }
        }
    });
    Simulator::Stop(Seconds(60));
    Simulator::Run();
    Simulator::Destroy();
    return t;
}

/// The same transfers without and with TSQ (10 Mbit/s devices); both deliver every frame.
std::pair<Transfer, Transfer>
OffOn(uint32_t devices, size_t bytes, bool upload)
{
    const Transfer off = Run(devices, 10, bytes, upload, 0);
    const Transfer on = Run(devices, 10, bytes, upload, 1u << 20);
    REQUIRE(off.frames == devices);
    REQUIRE(on.frames == devices);
    return {off, on};
}

} // namespace

TEST_CASE("TCP small queues keep a sender's own queue at a few packets, at the same speed",
          "[sim][transport]")
{
    // One device uploads 1 MB over 10 Mbit/s: without TSQ its congestion window (far above the
    // path's BDP in slow start) waits in its own fq_codel (272 packets at most); with TSQ
    // about 1 ms of its pacing rate, 2 x cwnd / srtt in slow start (19 packets at most).
    const auto [off, on] = OffOn(1, 1'000'000, true);
    CAPTURE(off.maxHostBacklog, on.maxHostBacklog, off.seconds, on.seconds);
    CHECK(off.maxHostBacklog > 20);
    CHECK(on.maxHostBacklog * 10 <= off.maxHostBacklog);
    // Never slower (without TSQ the sender's own fq_codel may drop its burst).
    CHECK(on.seconds <= 1.03 * off.seconds);
}

TEST_CASE("TCP small queues: sockets sharing the server's queue all finish", "[sim][transport]")
{
    // 50 downloads of 300 kB from the server at once: the server's bottleneck device is every
    // socket's host queue; each keeps at most a few packets there and all complete.
    const auto [off, on] = OffOn(50, 300'000, false);
    CAPTURE(off.maxHostBacklog, on.maxHostBacklog, off.seconds, on.seconds);
    CHECK(on.maxHostBacklog < off.maxHostBacklog);
    CHECK(on.maxHostBacklog <= 50 * 3);
    CHECK(on.seconds <= 1.03 * off.seconds);
}
