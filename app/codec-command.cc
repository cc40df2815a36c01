#include "app/codec-command.h"

#include "common/byte-io.h"
#include "common/csv-writer.h"
#include "common/error.h"
#include "compression/codec.h"
#include "compression/npy-io.h"
#include "compression/wire-header.h"

#include <cmath>
#include <cstdlib>
#include <iostream>
#include <string>

namespace slsim
{

namespace
{

/// The usage text; the method list comes from the codec registry.
std::string
Usage()
{
    std::string methods;
    for (const std::string& name : CodecNames())
    {
        methods += (methods.empty() ? "" : "|") + name;
    }
    return "usage: slsim codec --method " + methods
           + " --in x.npy --out y.npy\n"
             "                   [--sparsity R] [--bits B] [--index auto|bitmap|u32] [--randtopk-a "
             "A]\n"
             "                   [--floor] [--signed] [--stochastic] [--budget BITS_PER_ELEMENT]\n"
             "                   [--seed N] [--wire w.bin]\n"
             "Encodes a float32 .npy tensor, writes the reconstruction (and the wire bytes), "
             "prints one\n"
             "JSON line: method, shape, n, k, bytes, bits_per_element, rel_l2_error.\n";
}

double
ParseDouble(const std::string& flag, const std::string& v)
{
    char* end = nullptr;
    const double d = std::strtod(v.c_str(), &end);
    if (v.empty() || end != v.c_str() + v.size())
    {
        throw InputError(flag + ": expected a number, got '" + v + "'");
    }
    return d;
}

long long
ParseInt(const std::string& flag, const std::string& v)
{
    char* end = nullptr;
    const long long i = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || end != v.c_str() + v.size())
    {
        throw InputError(flag + ": expected an integer, got '" + v + "'");
    }
    return i;
}

std::string
JsonString(const std::string& s)
{
    std::string o = "\"";
    for (char c : s)
    {
        if (c == '"' || c == '\\')
        {
            o += '\\';
        }
        o += c;
    }
    return o + "\"";
}

} // namespace

int
RunCodecCommand(const std::vector<std::string>& args, std::ostream& out)
{
    CodecConfig config;
    std::string in;
    std::string outPath;
    std::string wire;
    uint64_t seed = 1;
    bool hasMethod = false;
    for (size_t i = 0; i < args.size(); ++i)
    {
        const std::string& a = args[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= args.size())
            {
                throw InputError("codec " + a + ": missing value");
            }
            return args[++i];
        };
        if (a == "--help" || a == "-h")
        {
            out << Usage();
            return 0;
        }
        else if (a == "--method")
        {
            config.method = value();
            hasMethod = true;
        }
        else if (a == "--sparsity")
        {
            config.sparsity = ParseDouble(a, value());
        }
        else if (a == "--bits")
        {
            const long long b = ParseInt(a, value());
            config.bits = (b < -1000 || b > 1000) ? 1000 : static_cast<int>(b);
        }
        else if (a == "--index")
        {
            config.index = value();
        }
        else if (a == "--randtopk-a")
        {
            config.randtopkA = ParseDouble(a, value());
        }
        else if (a == "--floor")
        {
            config.floorCodes = true;
        }
        else if (a == "--signed")
        {
            config.signedValues = true;
        }
        else if (a == "--stochastic")
        {
            config.stochastic = true;
        }
        else if (a == "--budget")
        {
            config.budgetBitsPerElement = ParseDouble(a, value());
        }
        else if (a == "--seed")
        {
            const long long s = ParseInt(a, value());
            if (s < 0)
            {
                throw InputError("--seed: must be >= 0");
            }
            seed = static_cast<uint64_t>(s);
        }
        else if (a == "--in")
        {
            in = value();
        }
        else if (a == "--out")
        {
            outPath = value();
        }
        else if (a == "--wire")
        {
            wire = value();
        }
        else
        {
            throw InputError("codec: unknown argument '" + a + "' (see slsim codec --help)");
        }
    }
    if (!hasMethod || in.empty() || outPath.empty())
    {
        throw InputError("codec: --method, --in and --out are required (see slsim codec --help)");
    }
    try
    {
        ValidateCodecConfig(config);
    }
    catch (const InputError& e)
    {
        throw InputError(std::string("codec --") + e.what());
    }
    // Scenarios refuse sparsity 1 (codec.*.sparsity is in [0, 1)): nothing would be sent.
    if (!(config.sparsity < 1.0))
    {
        throw InputError("codec --sparsity: must be in [0, 1) (fraction not sent as values), got "
                         + FormatDouble(config.sparsity));
    }
    const NpyArray x = ReadNpy(in);
    for (size_t i = 0; i < x.data.size(); ++i)
    {
        if (!std::isfinite(x.data[i]))
        {
            throw InputError(in + ": element " + std::to_string(i) + " is "
                             + (std::isnan(x.data[i]) ? "NaN" : "infinite")
                             + " (codec inputs must be finite)");
        }
    }
    std::unique_ptr<Codec> codec = MakeCodec(config);
    Rng rng(seed, "codec", 0);
    std::vector<uint8_t> blob;
    codec->Encode(x.data.data(), x.shape, blob, rng);
    SLSIM_ASSERT(blob.size() == codec->EncodedSize(x.shape));
    std::vector<float> y;
    const Shape shape = codec->Decode(blob.data(), blob.size(), y);
    SLSIM_ASSERT(shape == x.shape);
    ByteReader reader(blob.data(), blob.size());
    const WireHeader h = ReadHeader(reader);
    WriteNpy(outPath, shape, y.data());
    if (!wire.empty())
    {
        WriteFileAtomic(wire, std::string(blob.begin(), blob.end()));
    }
    const MessageStats s = MeasureMessage(x.data.data(), y.data(), h.n, blob.size());
    out << "{\"method\":" << JsonString(codec->Name()) << ",\"shape\":[";
    for (size_t i = 0; i < shape.dims.size(); ++i)
    {
        out << (i ? "," : "") << shape.dims[i];
    }
    out << "],\"n\":" << s.n << ",\"k\":" << h.k << ",\"bytes\":" << s.bytes
        << ",\"bits_per_element\":" << FormatDouble(s.bitsPerElement) << ",\"rel_l2_error\":"
        << (std::isfinite(s.relL2Error) ? FormatDouble(s.relL2Error) : std::string("null"))
        << "}\n";
    return 0;
}

int
RunCodecCommand(const std::vector<std::string>& args)
{
    return RunCodecCommand(args, std::cout);
}

} // namespace slsim
