#include "sim/messages.h"

#include "common/byte-io.h"
#include "common/error.h"

#include <algorithm>

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
    if (kind < 1 || kind > 8)
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
    case MessageKind::SERVER_OUTPUT:
        return "server_output";
    case MessageKind::HEAD_GRADIENT:
        return "head_gradient";
    }
    return "?";
}

void
WriteActivationsBody(const std::vector<int32_t>& labels, const std::vector<uint8_t>& blob,
                     std::vector<uint8_t>& out)
{
    ByteWriter w(out);
    w.PutU32(static_cast<uint32_t>(labels.size()));
    for (int32_t label : labels)
    {
        SLSIM_ASSERT(label >= 0 && label < 256);
        w.PutU8(static_cast<uint8_t>(label));
    }
    w.PutBytes(blob.data(), blob.size());
}

ActivationsBody
ReadActivationsBody(const uint8_t* body, size_t size)
{
    ByteReader r(body, size);
    ActivationsBody a;
    a.batch = r.GetU32();
    if (a.batch == 0 || a.batch > MAX_MESSAGE_BATCH)
    {
        throw DecodeError("uplink message: bad batch size " + std::to_string(a.batch));
    }
    a.labels = r.Take(a.batch, "labels");
    a.blob = body + r.Position();
    a.blobSize = r.Remaining();
    return a;
}

void
WriteReplayActivationsBody(const ReplayActivationsBody& body, size_t blobSize,
                           std::vector<uint8_t>& out)
{
    const size_t end = out.size() + 4 + body.batch + blobSize;
    ByteWriter w(out);
    w.PutU32(body.batch);
    w.PutU32(body.device);
    w.PutU32(body.step);
    SLSIM_ASSERT(out.size() <= end);
    out.resize(end, 0);
}

ReplayActivationsBody
ReadReplayActivationsBody(const uint8_t* body, size_t size)
{
    ByteReader r(body, size);
    ReplayActivationsBody b;
    b.batch = r.GetU32();
    b.device = r.GetU32();
    b.step = r.GetU32();
    return b;
}

} // namespace slsim
