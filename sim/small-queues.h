// TCP small queues (TSQ), Linux's limit on what one socket keeps in its own host's queues.
//
// A Linux TCP sender puts a segment into the qdisc/device only while the bytes it already has
// there (sk_wmem_alloc, freed at transmit completion) stay within a limit: two packets, or about
// 1 ms at the socket's pacing rate (rate >> sk_pacing_shift 10), at most
// net.ipv4.tcp_limit_output_bytes (net/ipv4/tcp_output.c, tcp_small_queue_check; the dynamic limit
// since Linux 3.12, commit c9eeec26e32e; the 1 MiB default since 4.20, commit c73e5807e4f6, so in
// Debian 12's 6.1; 4 MiB since 6.16). The rest waits in the socket, and a completed transmission
// wakes the socket up (tcp_wfree -> tcp_tsq_handler). ns-3 3.37 has no TSQ: a socket hands its
// whole congestion window to its host's queue disc, where fq_codel holds up to 10,240 packets, each
// a copy of real payload, and may drop them (Linux never loses a host's own segments that way).
//
// Here a TsqSocket (a TcpSocketBase whose AvailableWindow also respects the limit) counts its data
// segments from its Tx trace until the host's point-to-point device finishes transmitting them
// (PhyTxEnd) or a queue on the way drops them, identified by packet uid; when one leaves, a
// throttled socket sends again. Pacing rate = cwnd / srtt x 2 in slow start (cwnd < ssthresh / 2)
// or x 1.2 after (Linux's tcp_pacing_ss_ratio 200, tcp_pacing_ca_ratio 120,
// tcp_update_pacing_rate). Only with a queue disc (network.tcp.aqm not "none": with none the
// traffic-control layer drops for a full device queue with no trace to follow). Hosts: the wired
// devices and the server (its front-end nodes share the server's bottleneck device:
// sim/ideal-link.h delivers within the sending event). WiFi and LTE devices keep ns-3's sockets
// (their MAC queues are not point-to-point devices). ns-3's BulkSend creates its own sockets, so
// it has no TSQ either.
#ifndef SLSIM_SIM_SMALL_QUEUES_H
#define SLSIM_SIM_SMALL_QUEUES_H

#include "ns3/net-device.h"
#include "ns3/node.h"
#include "ns3/socket.h"

#include <cstdint>
#include <vector>

namespace slsim
{

/// Gives `nodes` TSQ with limit cap `limitBytes` (tcp_limit_output_bytes) on their egress
/// point-to-point `device` (a device's uplink; the server's side of the bottleneck for the server
/// and its front-end nodes). Call once per device, after its queue disc is installed. Sockets
/// made by CreateTcpSocket on these nodes afterwards (and the connections they accept) are
/// TsqSockets.
void InstallSmallQueues(const std::vector<ns3::Ptr<ns3::Node>>& nodes,
                        ns3::Ptr<ns3::NetDevice> device, uint32_t limitBytes);

/// A TCP socket on `node`: a TsqSocket where InstallSmallQueues ran, else ns-3's own.
ns3::Ptr<ns3::Socket> CreateTcpSocket(ns3::Ptr<ns3::Node> node);

} // namespace slsim

#endif
