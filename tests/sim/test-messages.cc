// The message header and bodies of sim/messages.h: the worked examples at the definition, byte for
// byte, and the readers' rejection of malformed input.
#include "common/byte-io.h"
#include "common/error.h"
#include "sim/frame-transport.h"
#include "sim/messages.h"

#include <catch2/catch.hpp>

using namespace slsim;

TEST_CASE("message header: the worked example of messages.h, byte for byte")
{
    // device 3's first step (step 1) of phase 7 with a 5-byte body
    MessageHeader h;
    h.kind = MessageKind::ACTIVATIONS;
    h.device = 3;
    h.phase = 7;
    h.step = 1;
    std::vector<uint8_t> header;
    WriteMessageHeader(h, header);
    const std::vector<uint8_t> body = {0xa1, 0xa2, 0xa3, 0xa4, 0xa5};
    std::vector<uint8_t> frame;
    ByteWriter w(frame);
    w.PutU32(static_cast<uint32_t>(header.size() + body.size())); // the frame prefix
    w.PutBytes(header.data(), header.size());
    w.PutBytes(body.data(), body.size());
    const std::vector<uint8_t> expected = {0x15, 0x00, 0x00, 0x00, // prefix: 21 payload bytes
                                           0x02, 0x00, 0x00, 0x00, // ACTIVATIONS, flags 0, reserved
                                           0x03, 0x00, 0x00, 0x00, // device 3
                                           0x07, 0x00, 0x00, 0x00, // phase 7
                                           0x01, 0x00, 0x00, 0x00, // step 1
                                           0xa1, 0xa2, 0xa3, 0xa4, 0xa5}; // body
    CHECK(frame == expected);
    CHECK(header.size() == MESSAGE_HEADER_BYTES);
    CHECK(frame.size() == FRAME_PREFIX_BYTES + MESSAGE_HEADER_BYTES + body.size());

    const std::vector<uint8_t> payload(frame.begin() + FRAME_PREFIX_BYTES, frame.end());
    const MessageHeader back = ReadMessageHeader(payload);
    CHECK(back.kind == MessageKind::ACTIVATIONS);
    CHECK(back.flags == 0);
    CHECK(back.device == 3);
    CHECK(back.phase == 7);
    CHECK(back.step == 1);
}

TEST_CASE("message header: START flags round-trip; malformed headers are rejected")
{
    MessageHeader h;
    h.kind = MessageKind::START;
    h.flags = START_HAS_WEIGHTS | START_REPORT_WEIGHTS;
    h.device = 0x01020304;
    h.phase = 0xfffffffe;
    h.step = 12;
    std::vector<uint8_t> bytes;
    WriteMessageHeader(h, bytes);
    CHECK(bytes[0] == 6);
    CHECK(bytes[1] == 3);
    CHECK(bytes[4] == 0x04);
    CHECK(bytes[7] == 0x01);
    const MessageHeader back = ReadMessageHeader(bytes);
    CHECK(back.flags == h.flags);
    CHECK(back.device == h.device);
    CHECK(back.phase == h.phase);
    CHECK(std::string(MessageKindName(back.kind)) == "start");

    std::vector<uint8_t> bad = bytes;
    bad[0] = 0;
    CHECK_THROWS_AS(ReadMessageHeader(bad), DecodeError);
    bad[0] = 9; // kinds are 1..8
    CHECK_THROWS_AS(ReadMessageHeader(bad), DecodeError);
    bad = bytes;
    bad[3] = 1; // reserved
    CHECK_THROWS_AS(ReadMessageHeader(bad), DecodeError);
    for (size_t n = 0; n < MESSAGE_HEADER_BYTES; ++n)
    {
        CHECK_THROWS_AS(ReadMessageHeader(std::vector<uint8_t>(bytes.begin(), bytes.begin() + n)),
                        DecodeError);
    }
}

TEST_CASE("ACTIVATIONS body: the worked example of messages.h, byte for byte")
{
    // B = 2, labels 3 and 7, a 3-byte blob aa bb cc
    std::vector<uint8_t> body = {0xee}; // the writer appends
    WriteActivationsBody({3, 7}, {0xaa, 0xbb, 0xcc}, body);
    const std::vector<uint8_t> expected
        = {0xee, 0x02, 0x00, 0x00, 0x00, 0x03, 0x07, 0xaa, 0xbb, 0xcc};
    CHECK(body == expected);

    const ActivationsBody a = ReadActivationsBody(body.data() + 1, body.size() - 1);
    CHECK(a.batch == 2);
    CHECK(a.labels[0] == 3);
    CHECK(a.labels[1] == 7);
    REQUIRE(a.blobSize == 3);
    CHECK(a.blob[0] == 0xaa);
    CHECK(a.blob[2] == 0xcc);
}

TEST_CASE("ACTIVATIONS body: bad batch counts and missing labels are DecodeErrors")
{
    std::vector<uint8_t> zero = {0, 0, 0, 0};
    CHECK_THROWS_AS(ReadActivationsBody(zero.data(), zero.size()), DecodeError);
    std::vector<uint8_t> huge;
    ByteWriter(huge).PutU32(MAX_MESSAGE_BATCH + 1);
    CHECK_THROWS_AS(ReadActivationsBody(huge.data(), huge.size()), DecodeError);
    std::vector<uint8_t> shortLabels = {5, 0, 0, 0, 1, 2, 3};
    CHECK_THROWS_AS(ReadActivationsBody(shortLabels.data(), shortLabels.size()), DecodeError);
    CHECK_THROWS_AS(ReadActivationsBody(shortLabels.data(), 3), DecodeError);
    // no blob at all is a valid body here; the codec rejects an empty blob
    std::vector<uint8_t> noBlob = {1, 0, 0, 0, 9};
    CHECK(ReadActivationsBody(noBlob.data(), noBlob.size()).blobSize == 0);
}

TEST_CASE("replay ACTIVATIONS body: the worked example of messages.h, the real body's size")
{
    // B = 2, device 1, step 5, a 10-byte blob: the real body is 4 + 2 + 10 = 16 bytes
    std::vector<uint8_t> body;
    WriteReplayActivationsBody(ReplayActivationsBody{2, 1, 5}, 10, body);
    const std::vector<uint8_t> expected = {0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
                                           0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    CHECK(body == expected);
    std::vector<uint8_t> real;
    WriteActivationsBody({3, 7}, std::vector<uint8_t>(10, 0xff), real);
    CHECK(real.size() == body.size());

    std::vector<uint8_t> longer;
    WriteReplayActivationsBody(ReplayActivationsBody{4, 2, 9}, 100, longer);
    REQUIRE(longer.size() == 4 + 4 + 100);
    CHECK(longer[12] == 0);
    CHECK(longer.back() == 0);
    const ReplayActivationsBody b = ReadReplayActivationsBody(longer.data(), longer.size());
    CHECK(b.batch == 4);
    CHECK(b.device == 2);
    CHECK(b.step == 9);
    CHECK_THROWS_AS(ReadReplayActivationsBody(longer.data(), 11), DecodeError);
}
