// Messages between devices and the server, carried one per frame (sim/frame-transport.h): the
// header and every body are written and read here, nowhere else.
//
// Header, 16 bytes, little-endian:
//   offset 0  u8  kind (MessageKind)
//   offset 1  u8  flags (START: bit 0 = weights attached, bit 1 = report weights at the end)
//   offset 2  u16 reserved, zero
//   offset 4  u32 device id
//   offset 8  u32 phase (the server's synchronisation phase; stale phases are ignored)
//   offset 12 u32 step (ACTIVATIONS/GRADIENT: the device's step counter, from 1; START: steps to
//             run)
// Example: device 3's first step (step 1) of phase 7 with a 5-byte body is the 4-byte frame prefix
// 15 00 00 00 (21 = 16 + 5), then 02 00 00 00 | 03 00 00 00 | 07 00 00 00 | 01 00 00 00, then the
// body (tests/sim/test-messages.cc checks it byte for byte).
//
// Body by kind:
//   HELLO       (device -> server) empty
//   ACTIVATIONS (device -> server) u32 batch B (1 .. 2^20), B label bytes (one u8 class per
//               sample), then the uplink codec blob of the cut activations (self-describing: its
//               own header carries the shape). Example: B = 2, labels 3 and 7, a 3-byte blob
//               aa bb cc is 02 00 00 00 | 03 07 | aa bb cc.
//   ACTIVATIONS in a network-only replay (sim/replay-sides.h): the real run's body size, u32
//               batch B, u32 device, u32 step, then zeros up to 4 + B + the codec's EncodedSize.
//               Example: B = 2, device 1, step 5, a 10-byte blob (the real body: 4 + 2 + 10 = 16
//               bytes) is 02 00 00 00 | 01 00 00 00 | 05 00 00 00 | 00 00 00 00.
//   GRADIENT    (server -> device) the downlink codec blob of dLoss/d(cut activations), alone
// U-shaped split learning (model.head_cut; labels never leave the device), per step:
//   ACTIVATIONS (device -> server) the uplink codec blob of the cut activations, alone (no batch,
//               no labels: the blob's own header carries the shape, batch first)
//   SERVER_OUTPUT (server -> device) the codec.head_downlink blob of the server part's output
//   HEAD_GRADIENT (device -> server) the codec.head_uplink blob of dLoss/d(server output)
//   GRADIENT    as above (the server's step follows HEAD_GRADIENT)
//   so a step is four frames: 4 x (4-byte prefix + 16-byte header) + the four blobs.
//   WEIGHTS     (device -> server) the sync codec blob of the device-side state, alone
//   DONE        (device -> server) empty (phase finished, no weights asked for)
//   START       (server -> device) the sync codec blob of the weights to load if flag bit 0, else
//               empty
// The codec blobs are documented in compression/ (one header per codec, with worked examples).
#ifndef SLSIM_SIM_MESSAGES_H
#define SLSIM_SIM_MESSAGES_H

#include <cstddef>
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
    SERVER_OUTPUT = 7, // U-shaped: the server part's output, down to the device's head
    HEAD_GRADIENT = 8, // U-shaped: the gradient w.r.t. that output, up from the head
};

constexpr size_t MESSAGE_HEADER_BYTES = 16;
constexpr uint8_t START_HAS_WEIGHTS = 1;
constexpr uint8_t START_REPORT_WEIGHTS = 2;
/// Largest batch an ACTIVATIONS body may announce (a guard against a corrupt count).
constexpr uint32_t MAX_MESSAGE_BATCH = 1u << 20;

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

/// An ACTIVATIONS body as read: views into the bytes it was read from.
struct ActivationsBody
{
    uint32_t batch = 0;
    const uint8_t* labels = nullptr; // batch bytes
    const uint8_t* blob = nullptr;   // the uplink codec blob
    size_t blobSize = 0;
};

/// Appends an ACTIVATIONS body: batch, the labels as bytes (each must be < 256), the blob.
void WriteActivationsBody(const std::vector<int32_t>& labels, const std::vector<uint8_t>& blob,
                          std::vector<uint8_t>& out);
/// Reads an ACTIVATIONS body; throws DecodeError on a batch of 0 or above MAX_MESSAGE_BATCH, or on
/// fewer label bytes than the batch. Labels are not range-checked here (the reader knows the
/// classes).
ActivationsBody ReadActivationsBody(const uint8_t* body, size_t size);

/// A replay's ACTIVATIONS body: which reference row the step is.
struct ReplayActivationsBody
{
    uint32_t batch = 0;
    uint32_t device = 0;
    uint32_t step = 0;
};

/// Appends a replay ACTIVATIONS body of exactly 4 + batch + blobSize bytes (the real body's size).
void WriteReplayActivationsBody(const ReplayActivationsBody& body, size_t blobSize,
                                std::vector<uint8_t>& out);
/// Reads the (batch, device, step) of a replay ACTIVATIONS body; throws DecodeError if short.
ReplayActivationsBody ReadReplayActivationsBody(const uint8_t* body, size_t size);

} // namespace slsim

#endif
