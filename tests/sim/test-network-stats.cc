// NetworkStats: retransmissions, timeouts and drops appear where the network loses packets, and
// nowhere else.
#include "sim/frame-transport.h"
#include "sim/network-stats.h"
#include "sim/topology.h"

#include "ns3/core-module.h"

#include <catch2/catch.hpp>

using namespace slsim;

namespace
{

/// Two devices on 20 Mbit/s access links; device 0's loses `loss` of its packets each way. Each
/// device sends a 1 MB frame to the server and the server answers each with a 1 MB frame.
struct Exchange
{
    std::vector<TcpCounts> up, down;
    std::vector<LinkCounts> accessUp, accessDown;
    LinkCounts coreUp, coreDown;
    int answered = 0;
    const std::vector<uint8_t> frame = std::vector<uint8_t>(1'000'000, 5);
    std::vector<std::unique_ptr<FrameSender>> senders;
    std::vector<std::unique_ptr<FrameAssembler>> assemblers;

    /// The server: answers each frame with one of the same size.
    void Accept(ns3::Ptr<ns3::Socket> s, const ns3::Address&)
    {
        senders.push_back(std::make_unique<FrameSender>(s));
        FrameSender* reply = senders.back().get();
        assemblers.push_back(std::make_unique<FrameAssembler>(
            [this, reply](std::vector<uint8_t>&&) { reply->Send(frame); }));
        s->SetRecvCallback(ns3::MakeCallback(&FrameAssembler::OnReceive, assemblers.back().get()));
    }

    Exchange(double loss, TcpConfig tcp, double bottleneckMbps = 100)
    {
        NetworkConfig c;
        DeviceProfile d;
        d.uplinkMbps = d.downlinkMbps = 20;
        d.delayMs = 10;
        c.devices = {d, d};
        c.devices[0].loss = loss;
        c.bottleneckMbps = bottleneckMbps;
        c.tcp = tcp;
        Network net = BuildNetwork(c, 7);
        NetworkStats stats(net);

        auto listen = ns3::Socket::CreateSocket(net.server, ns3::TcpSocketFactory::GetTypeId());
        listen->Bind(ns3::InetSocketAddress(ns3::Ipv4Address::GetAny(), 5000));
        listen->Listen();
        listen->SetAcceptCallback(
            ns3::MakeNullCallback<bool, ns3::Ptr<ns3::Socket>, const ns3::Address&>(),
            ns3::MakeCallback(&Exchange::Accept, this));
        ns3::Simulator::ScheduleNow([&] {
            for (uint32_t i = 0; i < 2; ++i)
            {
                auto s = ns3::Socket::CreateSocket(net.devices.Get(i),
                                                   ns3::TcpSocketFactory::GetTypeId());
                s->Bind();
                s->Connect(ns3::InetSocketAddress(net.serverAddress, 5000));
                assemblers.push_back(std::make_unique<FrameAssembler>(
                    [this](std::vector<uint8_t>&&) { ++answered; }));
                s->SetRecvCallback(
                    ns3::MakeCallback(&FrameAssembler::OnReceive, assemblers.back().get()));
                senders.push_back(std::make_unique<FrameSender>(s));
                senders.back()->Send(frame);
            }
        });
        ns3::Simulator::Stop(ns3::Seconds(300));
        ns3::Simulator::Run();
        for (int i = 0; i < 2; ++i)
        {
            up.push_back(stats.Uplink(i));
            down.push_back(stats.Downlink(i));
            accessUp.push_back(stats.AccessUp(i));
            accessDown.push_back(stats.AccessDown(i));
        }
        coreUp = stats.BottleneckUp();
        coreDown = stats.BottleneckDown();
        ns3::Simulator::Destroy();
    }
};

} // namespace

TEST_CASE("A lossy access link shows retransmissions and timeouts on its device only",
          "[sim][stats]")
{
    const Exchange x(0.05, TcpConfig());
    REQUIRE(x.answered == 2);
    INFO("device 0 up: " << x.up[0].retransmissions << " retx, " << x.up[0].timeouts
                         << " timeouts; down: " << x.down[0].retransmissions << " retx, "
                         << x.down[0].timeouts << " timeouts; wire losses "
                         << x.accessUp[0].wireLosses << "/" << x.accessDown[0].wireLosses);
    // Lost segments are sent again, in both directions, and some losses (a lost retransmission,
    // a lost tail) are only repaired by the retransmission timer.
    CHECK(x.accessUp[0].wireLosses > 0);
    CHECK(x.accessDown[0].wireLosses > 0);
    CHECK(x.up[0].retransmissions > 0);
    CHECK(x.down[0].retransmissions > 0);
    CHECK(x.up[0].timeouts + x.down[0].timeouts > 0);
    CHECK(x.up[0].bytesRetransmitted > 0);
    CHECK(x.up[0].bytesSent >= 1'000'004 + x.up[0].bytesRetransmitted);
    // The loss-free device next to it: slow start overshoots its BDP-sized queues, and each
    // segment those drop is sent again once, by fast retransmit, never by the timer.
    CHECK(x.accessUp[1].wireLosses + x.accessDown[1].wireLosses == 0);
    CHECK(x.up[1].retransmissions == x.accessUp[1].queueDrops);
    CHECK(x.down[1].retransmissions == x.accessDown[1].queueDrops);
    CHECK(x.up[1].timeouts + x.down[1].timeouts == 0);
    CHECK(x.up[1].bytesSent == 1'000'004 + x.up[1].bytesRetransmitted);
    CHECK(x.down[1].bytesSent == 1'000'004 + x.down[1].bytesRetransmitted);
    CHECK(x.coreUp.queueDrops + x.coreDown.queueDrops == 0);
    CHECK(x.accessUp[1].packetsSent > 1'000'000 / 1448);
}

TEST_CASE("A queue too small for the window drops packets and the drops are counted",
          "[sim][stats]")
{
    TcpConfig tcp;
    tcp.queuePackets = 3; // smaller than the initial window: the first flight overflows
    const Exchange x(0, tcp);
    REQUIRE(x.answered == 2);
    INFO("drops: up " << x.accessUp[0].queueDrops << ", down " << x.accessDown[0].queueDrops);
    CHECK(x.accessUp[0].queueDrops + x.accessUp[1].queueDrops > 0);
    CHECK(x.up[0].retransmissions + x.up[1].retransmissions > 0);
    CHECK(x.accessUp[0].wireLosses == 0);
    // Every drop is repaired; a repair dropped again (or a timer expiry) adds more.
    CHECK(x.up[0].retransmissions + x.up[1].retransmissions
          >= x.accessUp[0].queueDrops + x.accessUp[1].queueDrops + x.coreUp.queueDrops);
}

TEST_CASE("The legacy profile's loss-free link with ns-3's 1 s minimum RTO shows its drops too",
          "[sim][stats]")
{
    TcpConfig tcp = TcpProfile("legacy");
    tcp.variant = "NewReno";
    const Exchange x(0, tcp);
    REQUIRE(x.answered == 2);
    CHECK(x.accessUp[1].queueDrops > 0); // 100-packet queue, 4 MiB window: slow start overflows
    CHECK(x.up[1].retransmissions >= x.accessUp[1].queueDrops);
}

TEST_CASE("With ECN fq_codel marks where it dropped: no drops and no retransmissions",
          "[sim][stats]")
{
    // Two 20 Mbit/s uplinks into a 10 Mbit/s bottleneck: a standing queue at the hub, which
    // CoDel drops from (its 5 ms target exceeded for its 100 ms interval), or with ECN marks.
    const Exchange plain(0, TcpConfig(), 10);
    TcpConfig tcp;
    tcp.ecn = true;
    const Exchange ecn(0, tcp, 10);
    REQUIRE(plain.answered == 2);
    REQUIRE(ecn.answered == 2);
    uint64_t ecnRetransmissions = 0;
    for (int i = 0; i < 2; ++i)
    {
        ecnRetransmissions += ecn.up[i].retransmissions + ecn.down[i].retransmissions;
    }
    INFO("bottleneck drops without ECN " << plain.coreUp.queueDrops << ", with "
                                         << ecn.coreUp.queueDrops);
    CHECK(plain.coreUp.queueDrops > 0);
    CHECK(plain.up[0].retransmissions + plain.up[1].retransmissions > 0);
    CHECK(ecn.coreUp.queueDrops == 0);
    CHECK(ecnRetransmissions == 0);
}
