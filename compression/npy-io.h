// A small, safe reader and writer for NumPy .npy files holding float32 arrays.
//
// Reads format versions 1.0, 2.0 and 3.0 with descr '<f4' (little-endian float32), C order
// (fortran_order False), any shape (rank <= 8, each dimension < 2^32), and checks that the file
// holds exactly the bytes the shape implies. Anything else throws InputError naming the file and
// what was wrong. Writes version 1.0 with the header padded to a multiple of 64 bytes, as NumPy
// does.
#ifndef SLSIM_COMPRESSION_NPY_IO_H
#define SLSIM_COMPRESSION_NPY_IO_H

#include "common/shape.h"

#include <cstdint>
#include <string>
#include <vector>

namespace slsim
{

struct NpyArray
{
    Shape shape;
    std::vector<float> data;
};

/// Parses an .npy image held in memory; `name` is used in error messages.
NpyArray ParseNpy(const uint8_t* bytes, size_t size, const std::string& name);

/// Reads a float32 .npy file.
NpyArray ReadNpy(const std::string& path);

/// Serialises a float32 array as .npy (version 1.0).
std::vector<uint8_t> SerializeNpy(const Shape& shape, const float* data);

/// Writes a float32 .npy file atomically (temporary file + rename).
void WriteNpy(const std::string& path, const Shape& shape, const float* data);

} // namespace slsim

#endif
