#include "sim/split-pass.h"

namespace slsim
{

Shape
CutShape(const Partition& device, int batch)
{
    Shape cut = device.OutputShape();
    cut.dims.insert(cut.dims.begin(), static_cast<int64_t>(batch));
    return cut;
}

double
CodecRoundTrip(Codec& codec, const float* x, const Shape& shape, Rng& rng,
               std::vector<uint8_t>& blob, std::vector<float>& decoded)
{
    codec.Encode(x, shape, blob, rng);
    codec.Decode(blob.data(), blob.size(), decoded);
    return RelativeL2Error(x, decoded.data(), static_cast<size_t>(shape.Numel()));
}

LossResult
ServerForwardBackward(Partition& server, const float* cut, const int32_t* labels, int batch,
                      AlignedVector<float>& logitGrad, const float*& cutGrad)
{
    const float* logits = server.Forward(cut, batch, true);
    const int classes = static_cast<int>(server.OutputShape().Numel());
    logitGrad.resize(static_cast<size_t>(batch) * static_cast<size_t>(classes));
    const LossResult loss = SoftmaxCrossEntropy(logits, labels, batch, classes, logitGrad.data());
    cutGrad = server.Backward(logitGrad.data()); // dL/dx^
    return loss;
}

} // namespace slsim
