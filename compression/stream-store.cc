#include "compression/stream-store.h"

#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace slsim
{

void
CopyBytes(void* dst, const void* src, size_t bytes)
{
#if defined(__x86_64__)
    if (UseStreamingStores(bytes, bytes))
    {
        auto* d = static_cast<uint8_t*>(dst);
        const auto* s = static_cast<const uint8_t*>(src);
        // movntdq needs a 16-byte aligned destination: copy up to 15 bytes first
        const size_t head = (16 - (reinterpret_cast<uintptr_t>(d) & 15)) & 15;
        std::memcpy(d, s, head);
        size_t i = head;
        for (; i + 64 <= bytes; i += 64) // one cache line per iteration
        {
            PrefetchAhead(s + i);
            const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i));
            const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i + 16));
            const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i + 32));
            const __m128i e = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i + 48));
            _mm_stream_si128(reinterpret_cast<__m128i*>(d + i), a);
            _mm_stream_si128(reinterpret_cast<__m128i*>(d + i + 16), b);
            _mm_stream_si128(reinterpret_cast<__m128i*>(d + i + 32), c);
            _mm_stream_si128(reinterpret_cast<__m128i*>(d + i + 48), e);
        }
        _mm_sfence(); // the streamed lines are visible before any later store
        std::memcpy(d + i, s + i, bytes - i);
        return;
    }
#endif
    if (bytes > 0)
    {
        std::memcpy(dst, src, bytes);
    }
}

} // namespace slsim
