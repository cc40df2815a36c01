// Tensor shapes. A batch tensor is stored NCHW, row-major, flattened (the PyTorch layout).
#ifndef SLSIM_COMMON_SHAPE_H
#define SLSIM_COMMON_SHAPE_H

#include <cstdint>
#include <string>
#include <vector>

namespace slsim
{

struct Shape
{
    std::vector<int64_t> dims;

    Shape() = default;

    Shape(std::initializer_list<int64_t> d)
        : dims(d)
    {
    }

    explicit Shape(std::vector<int64_t> d)
        : dims(std::move(d))
    {
    }

    /// Product of the dimensions (1 for a scalar shape with no dimensions).
    int64_t Numel() const
    {
        int64_t n = 1;
        for (int64_t d : dims)
        {
            n *= d;
        }
        return n;
    }

    size_t Rank() const
    {
        return dims.size();
    }

    /// "64x16x16"
    std::string ToString() const
    {
        std::string s;
        for (size_t i = 0; i < dims.size(); ++i)
        {
            s += (i ? "x" : "") + std::to_string(dims[i]);
        }
        return s.empty() ? "scalar" : s;
    }

    bool operator==(const Shape& o) const
    {
        return dims == o.dims;
    }

    bool operator!=(const Shape& o) const
    {
        return dims != o.dims;
    }
};

} // namespace slsim

#endif
