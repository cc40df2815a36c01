// Writes small valid inputs into <dir>/<target>/ as seed corpora: one blob per codec
// configuration (decode-<id>), and one or two files per reader format (npy, idx, cifar, digits,
// trace, replay, csv). The scenario and sweep seeds are the shipped files (fuzz/run copies them).
#include "compression/codec.h"
#include "compression/npy-io.h"

#include <cmath>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

using namespace slsim;

namespace
{

std::string g_dir;

void
Write(const std::string& target, const std::string& name, const std::string& bytes)
{
    std::ofstream(g_dir + "/" + target + "/" + name, std::ios::binary)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// Two files in one input (fuzz-file.h SplitTwo): the first's length in 2 bytes, little-endian.
std::string
Two(const std::string& first, const std::string& second)
{
    std::string s;
    s += static_cast<char>(first.size() & 0xff);
    s += static_cast<char>((first.size() >> 8) & 0xff);
    return s + first + second;
}

std::string
Be32(uint32_t v)
{
    return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
            static_cast<char>(v)};
}

void
CodecSeeds()
{
    std::vector<float> x(2 * 3 * 5);
    for (size_t i = 0; i < x.size(); ++i)
    {
        x[i] = static_cast<float>(std::fmax(0.0, std::sin(static_cast<double>(i))));
    }
    for (const char* m : {"none", "fp16", "bf16", "quantize", "topk", "randtopk", "ms"})
    {
        for (int variant = 0; variant < 4; ++variant)
        {
            CodecConfig c;
            c.method = m;
            c.sparsity = variant % 2 ? 0.9 : 0.5;
            c.bits = std::string(m) == "quantize" ? 1 + 5 * variant : 1 + 2 * variant;
            c.index = variant % 2 ? "u32" : "bitmap";
            c.signedValues = std::string(m) == "ms" && variant >= 2;
            Rng rng(1, "codec");
            std::vector<uint8_t> blob;
            auto codec = MakeCodec(c);
            codec->Encode(x.data(), Shape{2, 3, 5}, blob, rng);
            Write("decode-" + std::to_string(blob[4]), "seed-" + std::to_string(variant),
                  std::string(blob.begin(), blob.end()));
        }
    }
    const std::vector<uint8_t> npy = SerializeNpy(Shape{2, 3, 5}, x.data());
    Write("npy", "seed-0", std::string(npy.begin(), npy.end()));
    const std::vector<uint8_t> scalar = SerializeNpy(Shape{1}, x.data());
    Write("npy", "seed-1", std::string(scalar.begin(), scalar.end()));
}

void
DatasetSeeds()
{
    // IDX: 3 images of 4x5 and their labels.
    std::string images = Be32(0x803) + Be32(3) + Be32(4) + Be32(5);
    for (int i = 0; i < 3 * 4 * 5; ++i)
    {
        images += static_cast<char>(i * 4);
    }
    const std::string labels = Be32(0x801) + Be32(3) + std::string{0, 7, 9};
    Write("idx", "seed-0", Two(images, labels));
    // CIFAR-10: two records (label, 3x32x32 planar).
    std::string cifar;
    for (int r = 0; r < 2; ++r)
    {
        cifar += static_cast<char>(r * 9);
        for (int i = 0; i < 3 * 32 * 32; ++i)
        {
            cifar += static_cast<char>((i * 7 + r) & 0xff);
        }
    }
    Write("cifar", "seed-0", cifar);
    // digits: 64 pixels 0..16 and the label, with a comment and a blank line.
    std::string digits = "# sklearn digits\n";
    for (int r = 0; r < 3; ++r)
    {
        for (int i = 0; i < 64; ++i)
        {
            digits += std::to_string((i + r) % 17) + ",";
        }
        digits += std::to_string(r) + (r == 1 ? "\n\n" : "\n");
    }
    Write("digits", "seed-0", digits);
}

void
TextSeeds()
{
    // Device traces: the first byte chooses with (odd) or without devices.count.
    Write("trace", "seed-0",
          std::string("\1")
              + "# per-device trace\ndevice_id,uplink_mbps,downlink_mbps,delay_ms,"
                "gflops,loss\n0,10,20,5,1.5,0\n1,\"2.5\",,1e1,3,0.01\n3,1,1,1,1,0\n");
    Write("trace", "seed-1", std::string("\0", 1) + "device_id,gflops\n0,1\n1,2\n2,4\n");
    Write("replay", "seed-0",
          Two("time_s,device,round,step,batch,loss,batch_accuracy,codec_rel_error\n"
              "0.5,0,0,1,3,2.3,0.125,0.01\n0.6,1,0,1,4,2.2,0.25,0\n0.7,0,0,2,5,nan,0,inf\n",
              "time_s,round,steps,test_accuracy,test_loss\n1,0,3,0.5,1.25\n2,1,4,0.75,0.5\n"));
    Write("csv", "seed-0", std::string("\7") + "# c\na, b ,\"c,\"\"d\"\"\"\n\n1,2e3,-inf\r\n");
    Write("csv", "seed-1", std::string("\0", 1) + "x\n\"multi\nline\",0x1p3\n");
}

} // namespace

int
main(int argc, char** argv)
{
    g_dir = argc > 1 ? argv[1] : "build-fuzz/seeds";
    CodecSeeds();
    DatasetSeeds();
    TextSeeds();
    return 0;
}
