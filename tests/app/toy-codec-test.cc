// Adding a codec touches one file plus one registry row: this file defines a toy codec ("sign":
// one bit per element, +-mean|x| back), registers its row, and shows it usable everywhere a
// shipped codec is: MakeCodec, EncodedSize, DecodeAny (through the wire header), the budget
// mode, the scenario loader and its messages. Its own test binary, so that the extra row never
// shows in the other tests' registry (the committed schema lists the shipped codecs).
//
// Payload of "sign" (after the common header, k = 0, bits = 0, no flags):
//   f32 scale = mean |x|, then n sign bits packed LSB-first (1 = negative), zero padded.
#include "app/scenario-loader.h"
#include "common/byte-io.h"
#include "common/error.h"
#include "compression/codec.h"
#include "compression/wire-header.h"
#include "tests/test-support.h"

#include <catch2/catch.hpp>
#include <cmath>

using namespace slsim;

namespace
{

constexpr uint8_t SIGN_ID = 0x40;

class SignCodec : public Codec
{
  public:
    std::string Name() const override
    {
        return "sign";
    }

    size_t EncodedSize(const Shape& shape) const override
    {
        WireHeader h;
        h.codec = static_cast<CodecId>(SIGN_ID);
        h.shape = shape;
        h.n = CheckEncodableShape(shape, "sign");
        std::vector<uint8_t> header;
        WriteHeader(header, h);
        return header.size() + PayloadSize(h);
    }

    void Encode(const float* x, const Shape& shape, std::vector<uint8_t>& out, Rng&) override
    {
        WireHeader h;
        h.codec = static_cast<CodecId>(SIGN_ID);
        h.shape = shape;
        h.n = CheckEncodableShape(shape, "sign");
        out.clear();
        WriteHeader(out, h);
        double sum = 0;
        for (uint64_t i = 0; i < h.n; ++i)
        {
            sum += std::fabs(x[i]);
        }
        const float scale = h.n ? static_cast<float>(sum / static_cast<double>(h.n)) : 0.0f;
        ByteWriter w(out);
        w.PutF32(scale);
        const size_t at = out.size();
        out.resize(at + PackedBytes(h.n, 1), 0);
        for (uint64_t i = 0; i < h.n; ++i)
        {
            if (x[i] < 0)
            {
                out[at + i / 8] |= static_cast<uint8_t>(1u << (i % 8));
            }
        }
    }

    Shape Decode(const uint8_t* data, size_t size, std::vector<float>& out) override
    {
        return DecodeAny(data, size, out);
    }
};

void
DecodeSign(const WireHeader& h, const uint8_t* payload, float* out)
{
    ByteReader r(payload, 4);
    const float scale = r.GetF32();
    for (uint64_t i = 0; i < h.n; ++i)
    {
        out[i] = (payload[4 + i / 8] >> (i % 8)) & 1u ? -scale : scale;
    }
}

/// The one row.
void
RegisterSign()
{
    static const bool done = [] {
        CodecInfo row;
        row.wireId = SIGN_ID;
        row.name = "sign";
        row.payloadSize = [](const WireHeader& h) { return 4 + PackedBytes(h.n, 1); };
        row.resolveBudget = [](CodecConfig& c, double b) {
            if (b < 1)
            {
                throw InputError("budget_bits_per_element: sign needs 1 bit per element, got "
                                 + std::to_string(b));
            }
            (void)c;
        };
        row.nominalBits = [](const CodecConfig&) { return 1.0; };
        row.make = [](const CodecConfig&) { return std::make_unique<SignCodec>(); };
        row.decode = DecodeSign;
        RegisterCodec(row);
        return true;
    }();
    (void)done;
}

} // namespace

TEST_CASE("a toy codec registered by one row encodes, decodes and is accepted by a scenario",
          "[app][codec]")
{
    RegisterSign();
    CodecConfig config;
    config.method = "sign";
    auto codec = MakeCodec(config);
    const std::vector<float> x{1.0f, -3.0f, 2.0f, -2.0f, 0.5f, 0.0f, -0.5f, 3.0f, 1.0f};
    const Shape shape{1, 9};
    std::vector<uint8_t> blob;
    Rng rng(1, "toy");
    codec->Encode(x.data(), shape, blob, rng);
    CHECK(blob.size() == codec->EncodedSize(shape));
    std::vector<float> y;
    CHECK(DecodeAny(blob.data(), blob.size(), y) == shape);
    const float scale = 13.0f / 9.0f;
    const std::vector<float> expected{scale, -scale, scale, -scale, scale,
                                      scale, -scale, scale, scale};
    REQUIRE(y.size() == expected.size());
    for (size_t i = 0; i < y.size(); ++i)
    {
        CHECK(y[i] == Approx(expected[i]));
    }
    // The wire header checks it like any codec: a payload one byte short is refused.
    blob.pop_back();
    CHECK_THROWS_AS(DecodeAny(blob.data(), blob.size(), y), DecodeError);

    CHECK(NominalBitsPerElement(config) == 1.0);
    config.budgetBitsPerElement = 0.5;
    CHECK_THROWS_WITH(ValidateCodecConfig(config),
                      Catch::StartsWith("budget_bits_per_element: sign"));
    config.budgetBitsPerElement = 0;
    config.stochastic = true;
    CHECK_THROWS_WITH(ValidateCodecConfig(config),
                      "stochastic: only applies to quantize, not sign");

    // A scenario names it like a shipped codec.
    Json doc = ParseJsonText(R"({"dataset": {"name": "synthetic", "synthetic": {"train": 40,
        "test": 10}}, "model": {"name": "mlp", "hidden": [8]}, "devices": {"count": 2},
        "codec": {"uplink": {"method": "sign"}}})",
                             "toy");
    const ScenarioConfig c = LoadScenario(doc, ".");
    CHECK(c.uplink.method == "sign");
    doc["codec"]["uplink"]["method"] = "sgin";
    CHECK_THAT(test::ErrorOf(doc), Catch::Contains("codec.uplink.method: unknown codec 'sgin'")
                                       && Catch::Contains("ms or sign"));
}
