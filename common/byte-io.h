// Little-endian byte and LSB-first bit packing for wire formats.
//
// ByteWriter appends to a std::vector<uint8_t>. ByteReader reads a span and throws DecodeError on
// any read past the end, so decoders never read out of bounds. BitWriter/BitReader pack codes of
// 1..32 bits LSB-first: code i occupies bits [i*b, (i+1)*b) of the little-endian bit stream, i.e.
// the first code sits in the low bits of the first byte. BitReader::CheckPaddingZero() rejects
// non-zero padding bits in the last byte.
//
// Worked examples (checked byte for byte in tests/common/test-byte-io.cc):
// - ByteWriter: PutU8(0x01), PutU16(0x0203), PutU32(0x04050607), PutF32(1.0f) gives
//   01 03 02 07 06 05 04 00 00 80 3f.
// - BitWriter, 3-bit codes 5, 2, 7, 1 (12 bits, 2 bytes): byte 0 = 5 | 2 << 3 | (7 & 3) << 6 =
//   0xd5, byte 1 = 7 >> 2 | 1 << 1 = 0x03; the top 4 bits of byte 1 are padding and must be zero.
// - Frame prefix (the TCP framing of sim/frame-transport.h): a u32 little-endian payload length
//   before the payload; a 70000-byte payload is preceded by 70 11 01 00.
#ifndef SLSIM_COMMON_BYTE_IO_H
#define SLSIM_COMMON_BYTE_IO_H

#include "common/error.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace slsim
{

/// Bytes of the length prefix in front of every frame on a byte stream (u32 little-endian).
constexpr size_t FRAME_LENGTH_BYTES = 4;

class ByteWriter
{
  public:
    explicit ByteWriter(std::vector<uint8_t>& out)
        : m_out(out)
    {
    }

    void PutU8(uint8_t v)
    {
        m_out.push_back(v);
    }

    void PutU16(uint16_t v)
    {
        PutLe(v, 2);
    }

    void PutU32(uint32_t v)
    {
        PutLe(v, 4);
    }

    void PutU64(uint64_t v)
    {
        PutLe(v, 8);
    }

    void PutF32(float v)
    {
        uint32_t u;
        std::memcpy(&u, &v, 4);
        PutU32(u);
    }

    /// Appends `count` floats as IEEE binary32 little-endian (x86 is little-endian: one memcpy).
    void PutF32Array(const float* v, size_t count)
    {
        const size_t at = m_out.size();
        m_out.resize(at + count * 4);
        std::memcpy(m_out.data() + at, v, count * 4);
    }

    void PutBytes(const uint8_t* p, size_t n)
    {
        m_out.insert(m_out.end(), p, p + n);
    }

    /// The FRAME_LENGTH_BYTES prefix of a frame whose payload is `payloadBytes` long.
    void PutFramePrefix(size_t payloadBytes)
    {
        SLSIM_ASSERT_MSG(payloadBytes <= UINT32_MAX, "frame payload over 4 GiB");
        PutU32(static_cast<uint32_t>(payloadBytes));
    }

  private:
    void PutLe(uint64_t v, int bytes)
    {
        for (int i = 0; i < bytes; ++i)
        {
            m_out.push_back(static_cast<uint8_t>(v >> (8 * i)));
        }
    }

    std::vector<uint8_t>& m_out;
};

class ByteReader
{
  public:
    ByteReader(const uint8_t* data, size_t size)
        : m_data(data),
          m_size(size)
    {
    }

    uint8_t GetU8()
    {
        Need(1, "u8");
        return m_data[m_pos++];
    }

    uint16_t GetU16()
    {
        return static_cast<uint16_t>(GetLe(2, "u16"));
    }

    uint32_t GetU32()
    {
        return static_cast<uint32_t>(GetLe(4, "u32"));
    }

    uint64_t GetU64()
    {
        return GetLe(8, "u64");
    }

    float GetF32()
    {
        uint32_t u = GetU32();
        float f;
        std::memcpy(&f, &u, 4);
        return f;
    }

    void GetF32Array(float* out, size_t count)
    {
        Need(count * 4, "f32 array");
        std::memcpy(out, m_data + m_pos, count * 4);
        m_pos += count * 4;
    }

    /// Returns a pointer to the next n bytes and advances past them.
    const uint8_t* Take(size_t n, const char* what)
    {
        Need(n, what);
        const uint8_t* p = m_data + m_pos;
        m_pos += n;
        return p;
    }

    size_t Remaining() const
    {
        return m_size - m_pos;
    }

    size_t Position() const
    {
        return m_pos;
    }

    /// Throws unless every byte has been consumed.
    void ExpectEnd() const
    {
        if (m_pos != m_size)
        {
            throw DecodeError(std::to_string(m_size - m_pos) + " trailing bytes after payload");
        }
    }

  private:
    void Need(size_t n, const char* what) const
    {
        if (n > m_size - m_pos)
        {
            throw DecodeError(std::string("truncated: need ") + std::to_string(n) + " bytes for "
                              + what + " at offset " + std::to_string(m_pos) + ", have "
                              + std::to_string(m_size - m_pos));
        }
    }

    uint64_t GetLe(int bytes, const char* what)
    {
        Need(static_cast<size_t>(bytes), what);
        uint64_t v = 0;
        for (int i = 0; i < bytes; ++i)
        {
            v |= static_cast<uint64_t>(m_data[m_pos++]) << (8 * i);
        }
        return v;
    }

    const uint8_t* m_data;
    size_t m_size;
    size_t m_pos = 0;
};

/// The payload length in the frame prefix at `prefix[0 .. FRAME_LENGTH_BYTES)`.
inline uint32_t
ReadFramePrefix(const uint8_t* prefix)
{
    return ByteReader(prefix, FRAME_LENGTH_BYTES).GetU32();
}

/// Bytes needed for `count` codes of `bits` bits.
inline size_t
PackedBytes(uint64_t count, unsigned bits)
{
    return static_cast<size_t>((count * bits + 7) / 8);
}

class BitWriter
{
  public:
    /// Writes into `out[0 .. PackedBytes(count, bits))`, which must be zeroed by the caller.
    explicit BitWriter(uint8_t* out)
        : m_out(out)
    {
    }

    void Put(uint32_t code, unsigned bits)
    {
        uint64_t v = static_cast<uint64_t>(code) << m_fill;
        m_acc |= v;
        m_fill += bits;
        while (m_fill >= 8)
        {
            *m_out++ = static_cast<uint8_t>(m_acc);
            m_acc >>= 8;
            m_fill -= 8;
        }
    }

    /// Writes the last partial byte (zero-padded).
    void Flush()
    {
        if (m_fill > 0)
        {
            *m_out++ = static_cast<uint8_t>(m_acc);
            m_acc = 0;
            m_fill = 0;
        }
    }

  private:
    uint8_t* m_out;
    uint64_t m_acc = 0;
    unsigned m_fill = 0;
};

class BitReader
{
  public:
    /// Reads codes from `data[0 .. size)`; the caller has checked size == PackedBytes(count, bits).
    BitReader(const uint8_t* data, size_t size)
        : m_data(data),
          m_size(size)
    {
    }

    uint32_t Get(unsigned bits)
    {
        while (m_fill < bits)
        {
            if (m_pos >= m_size)
            {
                throw DecodeError("bit stream truncated");
            }
            m_acc |= static_cast<uint64_t>(m_data[m_pos++]) << m_fill;
            m_fill += 8;
        }
        const uint32_t code = static_cast<uint32_t>(m_acc & ((uint64_t{1} << bits) - 1));
        m_acc >>= bits;
        m_fill -= bits;
        return code;
    }

    /// Throws if any padding bit left in the last byte is set, or bytes remain unread.
    void CheckPaddingZero() const
    {
        if (m_acc != 0)
        {
            throw DecodeError("non-zero padding bits after the last code");
        }
        if (m_pos != m_size)
        {
            throw DecodeError("bytes left after the last code");
        }
    }

  private:
    const uint8_t* m_data;
    size_t m_size;
    size_t m_pos = 0;
    uint64_t m_acc = 0;
    unsigned m_fill = 0;
};

} // namespace slsim

#endif
