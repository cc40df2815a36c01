// The pieces of one split-learning pass, written once, with no ns-3: the cut activations through
// a codec as the server sees them, and the server half (forward, loss, backward to the cut). The
// training sides (sim/device-side.h, sim/server-side.h) and `slsim probe` (app/probe.cc) build
// their passes from these.
//
// One step: x = device.Forward(input); x^ = decode(encode(x)); logits = server.Forward(x^);
// L = CE(softmax(logits), labels); g = dL/dx^ = server.Backward(dL/dlogits); the device
// back-propagates g as if it were dL/dx (straight through the codec).
#ifndef SLSIM_SIM_SPLIT_PASS_H
#define SLSIM_SIM_SPLIT_PASS_H

#include "common/aligned-vector.h"
#include "common/rng.h"
#include "common/shape.h"
#include "compression/codec.h"
#include "models/split-model.h"

#include <cstdint>
#include <vector>

namespace slsim
{

/// The cut activations' shape for `batch` samples: device.OutputShape() with the batch in front.
Shape CutShape(const Partition& device, int batch);

/// x (shape) through `codec`: encoded into `blob` with `rng`, decoded into `decoded` (copy it into
/// an AlignedVector before handing it to a model). Returns ||x - decoded|| / ||x||.
double CodecRoundTrip(Codec& codec, const float* x, const Shape& shape, Rng& rng,
                      std::vector<uint8_t>& blob, std::vector<float>& decoded);

/// The server half in training mode: logits = server.Forward(cut), softmax cross-entropy against
/// `labels`, backward to the cut. `logitGrad` is scratch; `cutGrad` receives the gradient w.r.t.
/// the cut (the server's buffer, batch * cut floats, valid until its next pass). No optimizer step.
LossResult ServerForwardBackward(Partition& server, const float* cut, const int32_t* labels,
                                 int batch, AlignedVector<float>& logitGrad, const float*& cutGrad);

} // namespace slsim

#endif
