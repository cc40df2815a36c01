// Messages between devices and the server, carried one per frame (sim/frame-transport.h).
//
// Header, 16 bytes, little-endian:
//   offset 0  u8  kind (MessageKind)
//   offset 1  u8  flags (START: bit 0 = weights attached, bit 1 = report weights at the end)
//   offset 2  u16 reserved, zero
//   offset 4  u32 device id
//   offset 8  u32 phase (the server's synchronisation phase; stale phases are ignored)
//   offset 12 u32 step (ACTIVATIONS/GRADIENT: the device's step counter; START: steps to run)
// Body by kind:
//   HELLO       (device -> server) empty
//   ACTIVATIONS (device -> server) u32 batch, batch label bytes, uplink codec blob
//   GRADIENT    (server -> device) downlink codec blob of dLoss/d(cut activations)
//   WEIGHTS     (device -> server) sync codec blob of the device-side state
//   DONE        (device -> server) empty (phase finished, no weights asked for)
//   START       (server -> device) sync codec blob of the weights to load, if flag bit 0
// Example: device 3's first step of phase 7 with a 5-byte body is a 4-byte frame prefix
// 15 00 00 00, then 02 00 00 00 | 03 00 00 00 | 07 00 00 00 | 00 00 00 00, then the body.
#ifndef SLSIM_SIM_MESSAGES_H
#define SLSIM_SIM_MESSAGES_H

#include <cstdint>
#include <string>
#include <vector>

namespace slsim
{

enum class MessageKind : uint8_t
{
    HELLO = 1,
    ACTIVATIONS = 2,
    GRADIENT = 3,
    WEIGHTS = 4,
    DONE = 5,
    START = 6,
};

constexpr size_t MESSAGE_HEADER_BYTES = 16;
constexpr uint8_t START_HAS_WEIGHTS = 1;
constexpr uint8_t START_REPORT_WEIGHTS = 2;

struct MessageHeader
{
    MessageKind kind = MessageKind::HELLO;
    uint8_t flags = 0;
    uint32_t device = 0;
    uint32_t phase = 0;
    uint32_t step = 0;
};

/// Clears `out` and writes the header; the caller appends the body.
void WriteMessageHeader(const MessageHeader& header, std::vector<uint8_t>& out);
/// Parses and checks the header of a frame; throws DecodeError.
MessageHeader ReadMessageHeader(const std::vector<uint8_t>& frame);
const char* MessageKindName(MessageKind kind);

} // namespace slsim

#endif
