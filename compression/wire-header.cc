#include "compression/wire-header.h"

#include "common/error.h"
#include "compression/codec.h"

#include <string>

namespace slsim
{

namespace
{

const uint8_t MAGIC[4] = {0x53, 0x4C, 0x43, 0x31}; // "SLC1"

} // namespace

const char*
CodecIdName(CodecId id)
{
    const CodecInfo* row = FindCodec(static_cast<uint8_t>(id));
    return row ? row->name.c_str() : "unknown";
}

uint64_t
CheckEncodableShape(const Shape& shape, const char* codecName)
{
    if (shape.Rank() > MAX_RANK)
    {
        throw InputError(std::string(codecName) + ": shape " + shape.ToString() + " has rank "
                         + std::to_string(shape.Rank()) + ", the wire format holds at most 8");
    }
    uint64_t n = 1;
    for (int64_t d : shape.dims)
    {
        if (d < 0 || static_cast<uint64_t>(d) > UINT32_MAX)
        {
            throw InputError(std::string(codecName) + ": shape " + shape.ToString()
                             + " has a dimension outside [0, 2^32)");
        }
        n *= static_cast<uint64_t>(d); // each factor < 2^32 and the running product checked below
        if (n > UINT32_MAX)
        {
            throw InputError(std::string(codecName) + ": shape " + shape.ToString()
                             + " has 2^32 or more elements (positions are u32)");
        }
    }
    return n;
}

void
WriteHeader(std::vector<uint8_t>& out, const WireHeader& header)
{
    ByteWriter w(out);
    w.PutBytes(MAGIC, 4);
    w.PutU8(static_cast<uint8_t>(header.codec));
    w.PutU8(header.bits);
    w.PutU8(header.flags);
    w.PutU8(static_cast<uint8_t>(header.shape.Rank()));
    for (int64_t d : header.shape.dims)
    {
        w.PutU32(static_cast<uint32_t>(d));
    }
    w.PutU32(static_cast<uint32_t>(header.k));
}

WireHeader
ReadHeader(ByteReader& reader)
{
    WireHeader h;
    const uint8_t* magic = reader.Take(4, "magic");
    if (magic[0] != MAGIC[0] || magic[1] != MAGIC[1] || magic[2] != MAGIC[2]
        || magic[3] != MAGIC[3])
    {
        throw DecodeError("bad magic (expected \"SLC1\")");
    }
    const uint8_t id = reader.GetU8();
    const CodecInfo* row = FindCodec(id); // the codec's row: bits, flags, k and payload size
    if (!row)
    {
        throw DecodeError("unknown codec id " + std::to_string(id));
    }
    h.codec = static_cast<CodecId>(id);
    const std::string& name = row->name;
    h.bits = reader.GetU8();
    if (row->maxBits > 0 && (h.bits < row->minBits || h.bits > row->maxBits))
    {
        throw DecodeError(name + ": bits must be " + std::to_string(row->minBits) + ".."
                          + std::to_string(row->maxBits) + ", got " + std::to_string(h.bits));
    }
    if (row->maxBits == 0 && h.bits != 0)
    {
        throw DecodeError(name + ": bits must be 0, got " + std::to_string(h.bits));
    }
    h.flags = reader.GetU8();
    if ((h.flags & ~row->flags) != 0)
    {
        throw DecodeError(name + ": invalid flags 0x" + std::to_string(h.flags));
    }
    const uint8_t rank = reader.GetU8();
    if (rank > MAX_RANK)
    {
        throw DecodeError(name + ": rank " + std::to_string(rank) + " > 8");
    }
    h.shape.dims.resize(rank);
    uint64_t n = 1;
    for (uint8_t i = 0; i < rank; ++i)
    {
        const uint32_t d = reader.GetU32();
        h.shape.dims[i] = d;
        n *= d; // n < 2^32 before, d < 2^32: no overflow of u64
        if (n > UINT32_MAX)
        {
            throw DecodeError(name + ": shape has 2^32 or more elements");
        }
    }
    h.n = n;
    h.k = reader.GetU32();
    if (row->sparse)
    {
        if (h.k > h.n)
        {
            throw DecodeError(name + ": k = " + std::to_string(h.k)
                              + " exceeds n = " + std::to_string(h.n));
        }
    }
    else if (h.k != 0)
    {
        throw DecodeError(name + ": k must be 0, got " + std::to_string(h.k));
    }
    const uint64_t payload = PayloadSize(h);
    if (reader.Remaining() != payload)
    {
        throw DecodeError(name + " " + h.shape.ToString() + " k=" + std::to_string(h.k)
                          + ": payload must be " + std::to_string(payload) + " bytes, got "
                          + std::to_string(reader.Remaining()));
    }
    return h;
}

uint64_t
PayloadSize(const WireHeader& h)
{
    const CodecInfo* row = FindCodec(static_cast<uint8_t>(h.codec));
    return row ? row->payloadSize(h) : 0;
}

} // namespace slsim
