// Memory of moving bytes: N devices each send B bytes to the server, which answers each with B
// bytes, over slsim's topology and TCP settings, either through FrameSender/FrameAssembler (real
// bytes, as slsim's apps move them) or through ns-3's own BulkSend -> PacketSink (the same byte
// counts; BulkSend's packets carry no real payload). Peak memory comes from /usr/bin/time
// (scripts/bench-network); this prints one JSON line with the simulated time.
//   bench_exchange frames|bulksend [devices 100] [bytes 1048576] [queue_packets 0 = BDP] [aqm]
//                  [tsq_limit_bytes] (frames only: BulkSend makes its own sockets, without TSQ)
// sim_time_s is the last event: for BulkSend that includes TIME_WAIT (2 MSL = 240 s) after close.
#include "sim/frame-transport.h"
#include "sim/network-stats.h"
#include "sim/small-queues.h"
#include "sim/topology.h"

#include "ns3/applications-module.h"
#include "ns3/core-module.h"

#include <cstdio>
#include <memory>
#include <string>

using namespace slsim;

namespace
{

constexpr uint16_t PORT = 5000;

struct FrameServer
{
    size_t bytes;
    std::vector<std::unique_ptr<FrameSender>> senders;
    std::vector<std::unique_ptr<FrameAssembler>> assemblers;

    void Accept(ns3::Ptr<ns3::Socket> s, const ns3::Address&)
    {
        senders.push_back(std::make_unique<FrameSender>(s));
        FrameSender* reply = senders.back().get();
        const size_t n = bytes;
        assemblers.push_back(std::make_unique<FrameAssembler>([reply, n](std::vector<uint8_t>&&) {
            reply->Send(std::vector<uint8_t>(n, 1)); // built, sent, freed: as an app does
        }));
        s->SetRecvCallback(ns3::MakeCallback(&FrameAssembler::OnReceive, assemblers.back().get()));
    }
};

} // namespace

int
main(int argc, char** argv)
{
    const std::string mode = argc > 1 ? argv[1] : "frames";
    const uint32_t devices = argc > 2 ? static_cast<uint32_t>(std::stoul(argv[2])) : 100;
    const size_t bytes = argc > 3 ? std::stoul(argv[3]) : (1u << 20);
    if (mode != "frames" && mode != "bulksend")
    {
        std::fprintf(stderr, "usage: bench_exchange frames|bulksend [devices] [bytes] "
                             "[queue_packets] [aqm] [tsq]\n");
        return 2;
    }
    NetworkConfig c;
    c.tcp.queuePackets = argc > 4 ? static_cast<uint32_t>(std::stoul(argv[4])) : 0;
    if (argc > 5)
    {
        c.tcp.aqm = argv[5]; // none, fq_codel, codel, pie (unchecked: a benchmark's argument)
    }
    if (argc > 6)
    {
        c.tcp.tsqLimitBytes = static_cast<uint32_t>(std::stoul(argv[6])); // 0: no TSQ
    }
    c.devices.assign(devices, DeviceProfile{}); // 10 Mbps / 5 ms, scenarios' defaults
    Network net = BuildNetwork(c, 1);
    NetworkStats stats(net);
    int done = 0;
    FrameServer server{bytes, {}, {}};
    std::vector<std::unique_ptr<FrameSender>> senders;
    std::vector<std::unique_ptr<FrameAssembler>> assemblers;
    uint64_t sinkBytes = 0;
    if (mode == "frames")
    {
        auto listen = CreateTcpSocket(net.server);
        listen->Bind(ns3::InetSocketAddress(ns3::Ipv4Address::GetAny(), PORT));
        listen->Listen();
        listen->SetAcceptCallback(
            ns3::MakeNullCallback<bool, ns3::Ptr<ns3::Socket>, const ns3::Address&>(),
            ns3::MakeCallback(&FrameServer::Accept, &server));
        ns3::Simulator::ScheduleNow([&] {
            for (uint32_t i = 0; i < devices; ++i)
            {
                auto s = CreateTcpSocket(net.devices.Get(i));
                s->Bind();
                s->Connect(ns3::InetSocketAddress(net.serverAddress, PORT));
                assemblers.push_back(
                    std::make_unique<FrameAssembler>([&done](std::vector<uint8_t>&&) { ++done; }));
                s->SetRecvCallback(
                    ns3::MakeCallback(&FrameAssembler::OnReceive, assemblers.back().get()));
                senders.push_back(std::make_unique<FrameSender>(s));
                senders.back()->Send(std::vector<uint8_t>(bytes, 2));
            }
        });
    }
    else
    {
        // Uplink: device -> server sinks; downlink: server -> a sink on each device.
        ns3::PacketSinkHelper sink("ns3::TcpSocketFactory",
                                   ns3::InetSocketAddress(ns3::Ipv4Address::GetAny(), PORT));
        ns3::ApplicationContainer sinks = sink.Install(net.server);
        sinks.Add(sink.Install(net.devices));
        for (uint32_t i = 0; i < sinks.GetN(); ++i)
        {
            sinks.Get(i)->TraceConnectWithoutContext(
                "Rx", ns3::MakeBoundCallback(
                          +[](uint64_t* total, ns3::Ptr<const ns3::Packet> p, const ns3::Address&) {
                              *total += p->GetSize();
                          },
                          &sinkBytes));
        }
        for (uint32_t i = 0; i < devices; ++i)
        {
            ns3::BulkSendHelper up("ns3::TcpSocketFactory",
                                   ns3::InetSocketAddress(net.serverAddress, PORT));
            up.SetAttribute("MaxBytes", ns3::UintegerValue(bytes + FRAME_PREFIX_BYTES));
            up.Install(net.devices.Get(i));
            ns3::Ptr<ns3::Ipv4> ipv4 = net.devices.Get(i)->GetObject<ns3::Ipv4>();
            ns3::BulkSendHelper down(
                "ns3::TcpSocketFactory",
                ns3::InetSocketAddress(ipv4->GetAddress(1, 0).GetLocal(), PORT));
            down.SetAttribute("MaxBytes", ns3::UintegerValue(bytes + FRAME_PREFIX_BYTES));
            down.Install(net.server);
        }
    }
    ns3::Simulator::Run();
    const double t = ns3::Simulator::Now().GetSeconds();
    ns3::Simulator::Destroy();
    const uint64_t moved
        = mode == "frames" ? uint64_t(done) * 2 * (bytes + FRAME_PREFIX_BYTES) : sinkBytes;
    const TcpCounts tcp = stats.TcpTotal();
    const LinkCounts links = stats.LinkTotal();
    std::printf(
        "{\"mode\": \"%s\", \"devices\": %u, \"bytes_each_way\": %zu, \"bytes_moved\": %llu, "
        "\"sim_time_s\": %.6f, \"retransmissions\": %llu, \"timeouts\": %llu, "
        "\"queue_drops\": %llu}\n",
        mode.c_str(), devices, bytes, static_cast<unsigned long long>(moved), t,
        static_cast<unsigned long long>(tcp.retransmissions),
        static_cast<unsigned long long>(tcp.timeouts),
        static_cast<unsigned long long>(links.queueDrops));
    return moved == uint64_t(devices) * 2 * (bytes + FRAME_PREFIX_BYTES) ? 0 : 1;
}
