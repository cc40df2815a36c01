#include "sim/frame-transport.h"

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
    std::vector<uint8_t> frame(FRAME_PREFIX_BYTES + size);
    const auto n = static_cast<uint32_t>(size);
    for (size_t i = 0; i < FRAME_PREFIX_BYTES; ++i)
    {
        frame[i] = static_cast<uint8_t>(n >> (8 * i));
    }
    auto at = std::copy(head.begin(), head.end(), frame.begin() + FRAME_PREFIX_BYTES);
    std::copy(body.begin(), body.end(), at);
    m_queue.push_back(std::move(frame));
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
        const std::vector<uint8_t>& frame = m_queue.front();
        const uint32_t available = m_socket->GetTxAvailable();
        if (available == 0)
        {
            return; // resumed by OnSendSpace
        }
        const size_t chunk = std::min<size_t>(available, frame.size() - m_offset);
        auto packet = ns3::Create<ns3::Packet>(frame.data() + m_offset, static_cast<uint32_t>(chunk));
        const int sent = m_socket->Send(packet);
        if (sent <= 0)
        {
            return; // buffer full after all: wait for the callback
        }
        m_offset += static_cast<size_t>(sent);
        m_bytesWritten += static_cast<uint64_t>(sent);
        if (m_offset == frame.size())
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
    ns3::Ptr<ns3::Packet> packet;
    while ((packet = socket->Recv()) && packet->GetSize() > 0)
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
    m_buffer.insert(m_buffer.end(), data, data + size);
    size_t pos = 0;
    while (m_buffer.size() - pos >= FRAME_PREFIX_BYTES)
    {
        uint32_t n = 0;
        for (size_t i = 0; i < FRAME_PREFIX_BYTES; ++i)
        {
            n |= static_cast<uint32_t>(m_buffer[pos + i]) << (8 * i);
        }
        if (n > MAX_FRAME_PAYLOAD)
        {
            throw DecodeError("frame length " + std::to_string(n) + " exceeds the 1 GiB limit");
        }
        if (m_buffer.size() - pos - FRAME_PREFIX_BYTES < n)
        {
            break; // incomplete: wait for more bytes
        }
        const auto begin = m_buffer.begin() + static_cast<std::ptrdiff_t>(pos + FRAME_PREFIX_BYTES);
        std::vector<uint8_t> payload(begin, begin + n);
        pos += FRAME_PREFIX_BYTES + n;
        m_onFrame(std::move(payload));
    }
    m_buffer.erase(m_buffer.begin(), m_buffer.begin() + static_cast<std::ptrdiff_t>(pos));
}

} // namespace slsim
