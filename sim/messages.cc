#include "sim/messages.h"

#include "common/byte-io.h"

namespace slsim
{

void
WriteMessageHeader(const MessageHeader& header, std::vector<uint8_t>& out)
{
    out.clear();
    ByteWriter w(out);
    w.PutU8(static_cast<uint8_t>(header.kind));
    w.PutU8(header.flags);
    w.PutU16(0);
    w.PutU32(header.device);
    w.PutU32(header.phase);
    w.PutU32(header.step);
}

MessageHeader
ReadMessageHeader(const std::vector<uint8_t>& frame)
{
    ByteReader r(frame.data(), frame.size());
    MessageHeader h;
    const uint8_t kind = r.GetU8();
    if (kind < 1 || kind > 6)
    {
        throw DecodeError("message: unknown kind " + std::to_string(kind));
    }
    h.kind = static_cast<MessageKind>(kind);
    h.flags = r.GetU8();
    if (r.GetU16() != 0)
    {
        throw DecodeError("message: reserved bytes not zero");
    }
    h.device = r.GetU32();
    h.phase = r.GetU32();
    h.step = r.GetU32();
    return h;
}

const char*
MessageKindName(MessageKind kind)
{
    switch (kind)
    {
    case MessageKind::HELLO:
        return "hello";
    case MessageKind::ACTIVATIONS:
        return "activations";
    case MessageKind::GRADIENT:
        return "gradient";
    case MessageKind::WEIGHTS:
        return "weights";
    case MessageKind::DONE:
        return "done";
    case MessageKind::START:
        return "start";
    }
    return "?";
}

} // namespace slsim
