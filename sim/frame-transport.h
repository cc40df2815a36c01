// Length-prefixed frames over ns-3 TCP sockets.
//
// Wire layout of one frame: u32 little-endian payload length n, then the n payload bytes. Nothing
// else is added: the bytes a codec writes are the bytes that cross the simulated link (plus these
// 4 bytes and the message header of sim/messages.h).
//
// FrameSender follows ns-3's BulkSend pattern: it keeps a queue of frames, writes as much as the
// TCP send buffer accepts, and resumes from the socket's send callback, so a frame larger than the
// send buffer streams through without stalls beyond TCP's own. FrameAssembler follows PacketSink:
// it reassembles the byte stream of one socket and delivers whole frames, however TCP split them.
//
// Memory: the bytes of a frame are held once on each side. The sender copies the frame into ns-3
// Packets of at most 64 KiB and hands TCP fragments of them (Packet::CreateFragment shares the
// buffer), so the send buffer and the queue refer to the same bytes, and each piece is freed once
// TCP has all of it acknowledged (one Packet per frame stayed whole until the frame's last
// byte was: 100 devices x 1 MiB each way peaked at 358 MB, in pieces at 265 MB, bench/README.md);
// the assembler copies the stream straight into the payload it will deliver (its size is known
// from the prefix), never into a second stream buffer.
#ifndef SLSIM_SIM_FRAME_TRANSPORT_H
#define SLSIM_SIM_FRAME_TRANSPORT_H

#include "common/byte-io.h"

#include "ns3/packet.h"
#include "ns3/ptr.h"
#include "ns3/socket.h"

#include <cstdint>
#include <deque>
#include <functional>
#include <vector>

namespace slsim
{

/// The length prefix of every frame: a u32 little-endian payload length (common/byte-io.h).
constexpr size_t FRAME_PREFIX_BYTES = FRAME_LENGTH_BYTES;
/// Largest payload a receiver accepts (a guard against a corrupt length prefix): 1 GiB.
constexpr uint32_t MAX_FRAME_PAYLOAD = 1u << 30;

class FrameSender
{
  public:
    /// Takes over the socket's send callback.
    explicit FrameSender(ns3::Ptr<ns3::Socket> socket);

    /// Queues one frame (the payload; the length prefix is added here) and starts sending.
    void Send(const std::vector<uint8_t>& payload)
    {
        Send(payload, {});
    }

    /// Queues one frame whose payload is `head` followed by `body`, copied once into Packets (the
    /// caller may free both on return).
    void Send(const std::vector<uint8_t>& head, const std::vector<uint8_t>& body);
    /// Drops queued data (the peer went away).
    void Clear();

    /// Bytes handed to the socket so far, prefixes included.
    uint64_t BytesWritten() const
    {
        return m_bytesWritten;
    }

    bool Idle() const
    {
        return m_queue.empty();
    }

    ns3::Ptr<ns3::Socket> GetSocket() const
    {
        return m_socket;
    }

  private:
    void TrySend();
    void OnSendSpace(ns3::Ptr<ns3::Socket> socket, uint32_t available);

    ns3::Ptr<ns3::Socket> m_socket;
    static constexpr size_t PIECE_BYTES = 64 * 1024;
    std::deque<ns3::Ptr<ns3::Packet>> m_queue; // pieces of frames, prefixes included
    uint32_t m_offset = 0;                     // bytes of m_queue.front() already written
    uint64_t m_bytesWritten = 0;
};

class FrameAssembler
{
  public:
    using FrameCallback = std::function<void(std::vector<uint8_t>&& payload)>;

    explicit FrameAssembler(FrameCallback onFrame)
        : m_onFrame(std::move(onFrame))
    {
    }

    /// Reads everything the socket has and delivers each completed frame.
    void OnReceive(ns3::Ptr<ns3::Socket> socket);
    /// Feeds raw stream bytes (used by OnReceive and by tests).
    void Feed(const uint8_t* data, size_t size);

    uint64_t BytesReceived() const
    {
        return m_bytesReceived;
    }

  private:
    FrameCallback m_onFrame;
    uint8_t m_prefix[FRAME_PREFIX_BYTES] = {};
    size_t m_prefixHave = 0;        // bytes of the current frame's prefix seen so far
    uint32_t m_need = 0;            // payload length of the current frame (once the prefix is in)
    std::vector<uint8_t> m_payload; // the current frame's payload so far (capacity m_need)
    std::vector<uint8_t> m_scratch; // one read from the socket (at most READ_BYTES)
    uint64_t m_bytesReceived = 0;
};

} // namespace slsim

#endif
