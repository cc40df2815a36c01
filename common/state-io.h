// Helpers for run-state checkpoints (sim/run-state.h): values, vectors and strings over
// ByteWriter/ByteReader (common/byte-io.h), little-endian. A checkpoint is an internal file of one
// slsim build (its header names the build), not an exchange format: plain structs of numbers go
// as their object bytes (PutPod), which is exact and cheap for the counters and rows it holds.
// Reads are bounds-checked (DecodeError), so a truncated or foreign file is refused, never
// misread past its end.
#ifndef SLSIM_COMMON_STATE_IO_H
#define SLSIM_COMMON_STATE_IO_H

#include "common/byte-io.h"
#include "common/error.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

namespace slsim
{

/// A trivially copyable value as its object bytes.
template <typename T>
void
PutPod(ByteWriter& w, const T& v)
{
    static_assert(std::is_trivially_copyable_v<T>, "PutPod needs a trivially copyable type");
    w.PutBytes(reinterpret_cast<const uint8_t*>(&v), sizeof(T));
}

template <typename T>
void
GetPod(ByteReader& r, T& v)
{
    static_assert(std::is_trivially_copyable_v<T>, "GetPod needs a trivially copyable type");
    std::memcpy(&v, r.Take(sizeof(T), "a state value"), sizeof(T));
}

/// A vector of trivially copyable values: u64 count, then the elements' bytes.
template <typename T>
void
PutPodVector(ByteWriter& w, const std::vector<T>& v)
{
    static_assert(std::is_trivially_copyable_v<T>, "PutPodVector needs a trivially copyable type");
    w.PutU64(v.size());
    if (!v.empty())
    {
        w.PutBytes(reinterpret_cast<const uint8_t*>(v.data()), v.size() * sizeof(T));
    }
}

/// Reads what PutPodVector wrote; `expected` (unless SIZE_MAX) is the count the reader's own
/// object has, a mismatch is a DecodeError naming `what`.
template <typename T>
void
GetPodVector(ByteReader& r, std::vector<T>& v, const char* what, size_t expected = SIZE_MAX)
{
    static_assert(std::is_trivially_copyable_v<T>, "GetPodVector needs a trivially copyable type");
    const uint64_t n = r.GetU64();
    if (expected != SIZE_MAX && n != expected)
    {
        throw DecodeError(std::string(what) + ": " + std::to_string(n)
                          + " values where this run has " + std::to_string(expected));
    }
    if (n > r.Remaining() / sizeof(T))
    {
        throw DecodeError(std::string("truncated: ") + what);
    }
    v.resize(static_cast<size_t>(n));
    if (n > 0)
    {
        std::memcpy(v.data(), r.Take(static_cast<size_t>(n) * sizeof(T), what),
                    static_cast<size_t>(n) * sizeof(T));
    }
}

inline void
PutString(ByteWriter& w, const std::string& s)
{
    w.PutU64(s.size());
    w.PutBytes(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

inline std::string
GetString(ByteReader& r, const char* what)
{
    const uint64_t n = r.GetU64();
    if (n > r.Remaining())
    {
        throw DecodeError(std::string("truncated: ") + what);
    }
    const auto* p = reinterpret_cast<const char*>(r.Take(static_cast<size_t>(n), what));
    return std::string(p, static_cast<size_t>(n));
}

} // namespace slsim

#endif
