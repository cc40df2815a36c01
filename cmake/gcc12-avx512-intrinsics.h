// Force-included (-include) into every translation unit of an AVX-512 build with GCC < 13: GCC 12's
// own AVX-512 intrinsics headers (avx512fintrin.h, _mm512_undefined_*: `__m512 __Y = __Y;`) raise
// -Wmaybe-uninitialized wherever Eigen's AVX-512 packets inline them (GCC bug 105593, fixed in
// GCC 13). The warning is silenced for the lines of those headers only, by including them once
// here inside a diagnostic region; our own code keeps every warning as an error.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
