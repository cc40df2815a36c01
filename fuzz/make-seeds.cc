// Writes one valid blob per codec configuration into <dir>/<codec-id>/ as seed corpora.
#include "compression/codec.h"

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

using namespace slsim;

int
main(int argc, char** argv)
{
    const std::string dir = argc > 1 ? argv[1] : "fuzz/seeds";
    std::vector<float> x(2 * 3 * 5);
    for (size_t i = 0; i < x.size(); ++i)
    {
        x[i] = static_cast<float>(std::fmax(0.0, std::sin(static_cast<double>(i))));
    }
    int count = 0;
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
            std::ofstream(dir + "/" + std::to_string(blob[4]) + "/seed-" + std::to_string(variant),
                          std::ios::binary)
                .write(reinterpret_cast<const char*>(blob.data()),
                       static_cast<std::streamsize>(blob.size()));
            ++count;
        }
    }
    return count > 0 ? 0 : 1;
}
