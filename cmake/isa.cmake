# Resolves SLSIM_ISA (auto | avx512 | avx2 | portable) to compile options for every target and
# sets SLSIM_ISA_RESOLVED. auto asks the build machine's CPU (__builtin_cpu_supports): avx2 where
# it has AVX2 + FMA (AVX-512 CPUs included, see below), else portable.
set(_isa_flags_avx512 -mavx512f -mavx512cd -mavx512bw -mavx512dq -mavx512vl -mavx2 -mfma)
set(_isa_flags_avx2 -mavx2 -mfma)
set(_isa_flags_portable "")

set(_isa ${SLSIM_ISA})
if(_isa STREQUAL "auto")
    if(CMAKE_CROSSCOMPILING)
        set(_isa portable)
    else()
        try_run(_isa_run _isa_compiled ${CMAKE_BINARY_DIR}/isa-probe
                SOURCES ${CMAKE_CURRENT_LIST_DIR}/isa-probe.cc
                RUN_OUTPUT_VARIABLE _isa_out)
        string(STRIP "${_isa_out}" _isa_out)
        if(_isa_compiled AND _isa_run EQUAL 0 AND _isa_out MATCHES "^(avx512|avx2|portable)$")
            set(_isa ${_isa_out})
            # The same scenario and seed must give byte-identical CSV on every machine, and AVX-512
            # builds sum in other orders than AVX2 builds (Eigen's 48-row kernels and packet
            # reductions): auto builds AVX2 on AVX-512 CPUs too. SLSIM_ISA=avx512 is 1.1-1.5x
            # faster training (Xeon, models/README.md) with results that differ in the last bits.
            if(_isa STREQUAL "avx512")
                set(_isa avx2)
            endif()
        else()
            set(_isa portable)
        endif()
    endif()
endif()
if(NOT _isa MATCHES "^(avx512|avx2|portable)$")
    message(FATAL_ERROR "SLSIM_ISA must be auto, avx512, avx2 or portable, not '${SLSIM_ISA}'")
endif()
set(SLSIM_ISA_RESOLVED ${_isa})
message(STATUS "slsim: ISA ${SLSIM_ISA_RESOLVED} (SLSIM_ISA=${SLSIM_ISA})")
add_compile_options(${_isa_flags_${_isa}})

if(_isa STREQUAL "avx512" AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU"
   AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    set(_isa_fix ${CMAKE_CURRENT_LIST_DIR}/gcc12-avx512-intrinsics.h)
    add_compile_options("$<$<COMPILE_LANGUAGE:CXX>:SHELL:-include ${_isa_fix}>")
endif()
