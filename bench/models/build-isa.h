// The vector ISA a benchmark binary was compiled for (cmake/isa.cmake), for its JSON output.
#ifndef SLSIM_BENCH_MODELS_BUILD_ISA_H
#define SLSIM_BENCH_MODELS_BUILD_ISA_H

namespace slsim
{

inline const char*
BuildIsa()
{
#if defined(__AVX512F__)
    return "avx512";
#elif defined(__AVX2__) && defined(__FMA__)
    return "avx2";
#else
    return "portable";
#endif
}

} // namespace slsim

#endif
