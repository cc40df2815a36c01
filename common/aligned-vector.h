// std::vector with 64-byte aligned storage.
//
// Why: vectorised reductions (Eigen's and the compiler's) peel a different number of leading
// elements depending on a buffer's alignment, which changes the order of float additions. Buffers
// handed to the models are kept 64-byte aligned so that results are bit-identical run to run,
// whatever addresses malloc returns.
#ifndef SLSIM_COMMON_ALIGNED_VECTOR_H
#define SLSIM_COMMON_ALIGNED_VECTOR_H

#include <cstddef>
#include <new>
#include <vector>

namespace slsim
{

template <typename T, size_t ALIGN = 64>
struct AlignedAllocator
{
    using value_type = T;

    template <typename U>
    struct rebind
    {
        using other = AlignedAllocator<U, ALIGN>;
    };

    AlignedAllocator() = default;

    template <typename U>
    AlignedAllocator(const AlignedAllocator<U, ALIGN>&) noexcept
    {
    }

    T* allocate(size_t n)
    {
        return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(ALIGN)));
    }

    void deallocate(T* p, size_t) noexcept
    {
        ::operator delete(p, std::align_val_t(ALIGN));
    }

    template <typename U>
    bool operator==(const AlignedAllocator<U, ALIGN>&) const noexcept
    {
        return true;
    }

    template <typename U>
    bool operator!=(const AlignedAllocator<U, ALIGN>&) const noexcept
    {
        return false;
    }
};

template <typename T>
using AlignedVector = std::vector<T, AlignedAllocator<T>>;

} // namespace slsim

#endif
