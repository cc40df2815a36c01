// Reading safetensors files (format described in checkpoint.cc): used by LoadCheckpoint and by
// the PyTorch-fixture tests.
#ifndef SLSIM_MODELS_SAFETENSORS_H
#define SLSIM_MODELS_SAFETENSORS_H

#include "common/shape.h"

#include <map>
#include <string>
#include <vector>

namespace slsim
{

struct SafetensorsTensor
{
    std::string dtype; // "F32" or "I64" (the only ones accepted)
    Shape shape;
    std::vector<float> values; // I64 values converted to float
};

/// Reads every tensor of a safetensors file. Throws InputError naming the file on any malformed
/// input (short file, header length past the end, bad JSON, unsupported dtype, offsets out of
/// range or not matching the shape).
std::map<std::string, SafetensorsTensor> ReadSafetensors(const std::string& path);

/// Writes tensors (F32, or I64 from whole-number floats) to a safetensors file, atomically, in
/// name order. Throws InputError naming the file.
void WriteSafetensors(const std::string& path,
                      const std::map<std::string, SafetensorsTensor>& tensors);

} // namespace slsim

#endif
