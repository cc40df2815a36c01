// Non-temporal ("streaming") stores for the large outputs of the copy-like codec loops (issue 15).
//
// Written with ordinary stores, an output that does not stay in the caches costs its bytes twice
// in memory traffic: each line is read first (read-for-ownership), then written back. x86's
// non-temporal stores (movnt*, SSE2: every x86-64 CPU) fill whole lines in write-combining
// buffers and send them to memory without that read, so a copy moves 2 bytes per byte, not 3.
// They also leave the output out of the caches, which costs a reader that comes soon after, so
// only large working sets stream (STREAM_MIN_BYTES). The bytes written are the same either way.
#ifndef SLSIM_COMPRESSION_STREAM_STORE_H
#define SLSIM_COMPRESSION_STREAM_STORE_H

#include <cstddef>
#include <cstdint>

namespace slsim
{

/// Bytes read plus bytes written by one codec call from which its copy-like loops stream the
/// output: 16 MiB, so a plain copy streams from 8 MiB on, a quarter of a 32 MiB L3 (glibc >= 2.38
/// switches memcpy to non-temporal stores at L3 / 4, sysdeps/x86/dl-cacheinfo.h; 32 MiB is the L3
/// of one AMD Zen 3 CCX). Measured on the 2-core AMD EPYC (Zen 3) VM, a copy repeated in a loop:
/// 1-4 MiB 1.2-1.4x faster with ordinary stores, 8-32 MiB 1.6-2.4x faster streamed, and still
/// 1.1-1.5x faster with a read of the whole output after each copy. (glibc 2.36 here reads a 256
/// MiB L3 from the hypervisor's CPUID and never streams a copy below 192 MiB.)
constexpr uint64_t STREAM_MIN_BYTES = uint64_t{16} << 20;

/// Whether a call that reads bytesRead and writes bytesWritten bytes streams its output.
inline bool
UseStreamingStores(uint64_t bytesRead, uint64_t bytesWritten)
{
    return bytesRead + bytesWritten >= STREAM_MIN_BYTES;
}

/// How far ahead of a sequential read the copy-like loops prefetch: one 4 KiB page. Hardware
/// prefetchers do not cross 4 KiB page boundaries (Intel 64 and IA-32 Architectures Optimization
/// Reference Manual, "Data prefetching"), so each new page of a long stream would start with
/// misses. Measured on the 2-core AMD EPYC VM (16.8 MB tensor): the streamed copy 10-20 % faster,
/// the fp16/bf16 casts 10-30 % faster; half a page ahead less, two pages no better.
constexpr uintptr_t PREFETCH_BYTES = 4096;

/// Prefetches the cache line PREFETCH_BYTES after p into all cache levels; may point past the
/// end of the data (a prefetch never faults).
inline void
PrefetchAhead(const void* p)
{
    __builtin_prefetch(
        reinterpret_cast<const void*>(reinterpret_cast<uintptr_t>(p) + PREFETCH_BYTES));
}

/// std::memcpy(dst, src, bytes); streamed (x86-64) when UseStreamingStores(bytes, bytes). The
/// ranges must not overlap.
void CopyBytes(void* dst, const void* src, size_t bytes);

} // namespace slsim

#endif
