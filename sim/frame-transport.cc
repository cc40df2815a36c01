#include "sim/frame-transport.h"

#include "common/byte-io.h"
#include "common/error.h"

#include "ns3/packet.h"

#include <algorithm>

namespace slsim
{

FrameSender::FrameSender(ns3::Ptr<ns3::Socket> socket)
    : m_socket(socket)
{
    m_socket->SetSendCallback(ns3::MakeCallback(&FrameSender::OnSendSpace, this));
}

void
FrameSender::Send(const std::vector<uint8_t>& head, const std::vector<uint8_t>& body)
{
    const size_t size = head.size() + body.size();
    SLSIM_ASSERT(size <= MAX_FRAME_PAYLOAD);
    // The frame (prefix, head, body) is copied once, into Packets of at most PIECE_BYTES: TCP's
    // send buffer frees each piece when all of its bytes are acknowledged, so a large frame's
    // memory shrinks as it is delivered instead of staying whole until its last byte is.
    std::vector<uint8_t> prefix;
    ByteWriter(prefix).PutFramePrefix(size);
    const std::vector<uint8_t>* parts[] = {&prefix, &head, &body};
    std::vector<uint8_t> piece;
    piece.reserve(std::min<size_t>(PIECE_BYTES, FRAME_PREFIX_BYTES + size));
    for (const std::vector<uint8_t>* part : parts)
    {
        for (size_t at = 0; at < part->size();)
        {
            const size_t take = std::min(PIECE_BYTES - piece.size(), part->size() - at);
            piece.insert(piece.end(), part->data() + at, part->data() + at + take);
            at += take;
            if (piece.size() == PIECE_BYTES)
            {
                m_queue.push_back(
                    ns3::Create<ns3::Packet>(piece.data(), static_cast<uint32_t>(piece.size())));
                piece.clear();
            }
        }
    }
    if (!piece.empty())
    {
        m_queue.push_back(
            ns3::Create<ns3::Packet>(piece.data(), static_cast<uint32_t>(piece.size())));
    }
    TrySend();
}

void
FrameSender::Clear()
{
    m_queue.clear();
    m_offset = 0;
}

void
FrameSender::TrySend()
{
    while (!m_queue.empty())
    {
        const ns3::Ptr<ns3::Packet>& frame = m_queue.front();
        const uint32_t available = m_socket->GetTxAvailable();
        if (available == 0)
        {
            return; // resumed by OnSendSpace
        }
        const uint32_t chunk = std::min(available, frame->GetSize() - m_offset);
        // A fragment shares the frame's buffer: TCP's send buffer holds no second copy.
        const int sent = m_socket->Send(frame->CreateFragment(m_offset, chunk));
        if (sent <= 0)
        {
            return; // buffer full after all: wait for the callback
        }
        m_offset += static_cast<uint32_t>(sent);
        m_bytesWritten += static_cast<uint64_t>(sent);
        if (m_offset == frame->GetSize())
        {
            m_queue.pop_front();
            m_offset = 0;
        }
    }
}

void
FrameSender::OnSendSpace(ns3::Ptr<ns3::Socket>, uint32_t)
{
    TrySend();
}

void
FrameAssembler::OnReceive(ns3::Ptr<ns3::Socket> socket)
{
    // Bounded reads keep the scratch copy small whatever the receive buffer holds.
    constexpr uint32_t READ_BYTES = 64 * 1024;
    ns3::Ptr<ns3::Packet> packet;
    while ((packet = socket->Recv(READ_BYTES, 0)) && packet->GetSize() > 0)
    {
        m_scratch.resize(packet->GetSize());
        packet->CopyData(m_scratch.data(), packet->GetSize());
        Feed(m_scratch.data(), m_scratch.size());
    }
}

void
FrameAssembler::Feed(const uint8_t* data, size_t size)
{
    m_bytesReceived += size;
    while (size > 0)
    {
        if (m_prefixHave < FRAME_PREFIX_BYTES)
        {
            const size_t take = std::min(FRAME_PREFIX_BYTES - m_prefixHave, size);
            std::copy(data, data + take, m_prefix + m_prefixHave);
            m_prefixHave += take;
            data += take;
            size -= take;
            if (m_prefixHave < FRAME_PREFIX_BYTES)
            {
                return; // the prefix is split: wait for its rest
            }
            const uint32_t n = ReadFramePrefix(m_prefix);
            if (n > MAX_FRAME_PAYLOAD)
            {
                throw DecodeError("frame length " + std::to_string(n) + " exceeds the 1 GiB limit");
            }
            m_need = n;
            m_payload.clear();
            m_payload.reserve(n); // exactly the frame: no doubling slack held
        }
        const size_t take = std::min<size_t>(m_need - m_payload.size(), size);
        m_payload.insert(m_payload.end(), data, data + take);
        data += take;
        size -= take;
        if (m_payload.size() < m_need)
        {
            return; // incomplete: wait for more bytes
        }
        m_prefixHave = 0;
        std::vector<uint8_t> payload;
        payload.swap(m_payload);
        m_onFrame(std::move(payload));
    }
}

} // namespace slsim
